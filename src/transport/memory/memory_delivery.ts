/**
 * A delivery from the memory broker, settled through the transport's session.
 * @module
 */

import type { Clock } from "../../clock.ts";
import { BrokerError } from "../../errors.ts";
import type { MemoryBroker } from "./memory_broker.ts";
import type { MemoryMessage } from "./memory_queue.ts";
import type { MemorySession } from "./memory_session.ts";
import { type SettleAction, SettleOnceDelivery } from "../settle_once_delivery.ts";
import type { MessageProps } from "../transport.ts";

/** What every delivery of one `MemoryTransport` shares. */
export interface MemoryDeliveryContext {
  readonly broker: MemoryBroker;
  readonly session: MemorySession;
  readonly clock: Clock;
}

/** One message delivered by a `MemoryTransport`; settling after the transport closed rejects (recoverable). */
export class MemoryDelivery extends SettleOnceDelivery {
  #context: MemoryDeliveryContext;
  #tag: number;

  /** `tag` is the session's handle on the held message. */
  constructor(context: MemoryDeliveryContext, queue: string, tag: number, message: MemoryMessage) {
    // Copies: a requeued message goes out again unchanged by what this reader did.
    super(queue, message.body.slice(), structuredClone(message.props), message.redelivered);
    this.#context = context;
    this.#tag = tag;
  }

  protected get settleable(): boolean {
    return !this.#context.session.closed;
  }

  protected now(): number {
    return this.#context.clock.now();
  }

  protected publishCopy(queue: string, props: MessageProps): void {
    this.#context.broker.publish("", queue, this.body, props);
  }

  protected settle(action: SettleAction): Promise<void> {
    const { session } = this.#context;
    const done = !session.closed &&
      (action === "requeue" ? session.requeue(this.#tag) : session.ack(this.#tag));
    if (done) return Promise.resolve();
    return Promise.reject(
      new BrokerError(
        `Cannot ${action} message from queue "${this.queue}": the transport closed and the message went back to its queue`,
      ),
    );
  }
}
