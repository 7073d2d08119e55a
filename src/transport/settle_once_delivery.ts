/**
 * What both transports' deliveries share: a delivery is settled at most once
 * (ack, requeue or dead letter), and a dead letter is a confirmed publish to
 * `<queue>.dead` followed by an ack of the original. Each transport supplies
 * only how to settle on its broker and how to publish the copy.
 * @module
 */

import { BrokerError } from "../errors.ts";
import { copyProps, deadLetterProps } from "./message_props.ts";
import { deadLetterQueueName, type Delivery, type MessageProps } from "./transport.ts";

/** How a delivery is being settled; also the verb of its error messages. */
export type SettleAction = "ack" | "requeue" | "dead-letter" | "release";

/** A `Delivery` that can be settled once; subclasses settle it on their broker. */
export abstract class SettleOnceDelivery implements Delivery {
  readonly queue: string;
  readonly body: Uint8Array;
  readonly props: MessageProps;
  readonly redelivered: boolean;
  #settled = false;

  /** The message as handed to the consumer. */
  constructor(queue: string, body: Uint8Array, props: MessageProps, redelivered: boolean) {
    this.queue = queue;
    this.body = body;
    this.props = props;
    this.redelivered = redelivered;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(): Promise<void> {
    return this.#claim("ack") ?? this.settle("ack");
  }

  requeue(): Promise<void> {
    return this.#claim("requeue") ?? this.settle("requeue");
  }

  deadLetter(reason: string, headers: Record<string, unknown> = {}): Promise<void> {
    const claimed = this.#claim("dead-letter");
    if (claimed) return claimed;
    let published: Promise<void> | void;
    try {
      // Gone from the broker's view already: let settle() say so, publish nothing.
      if (!this.settleable) return this.settle("dead-letter");
      const props = deadLetterProps(this.props, {
        queue: this.queue,
        reason,
        at: this.now(),
        headers,
      });
      published = this.publishCopy(deadLetterQueueName(this.queue), props);
    } catch (error) {
      this.#settled = false;
      return Promise.reject(error);
    }
    // A synchronous broker has the copy already: ack in the same turn.
    if (published === undefined) return this.settle("ack");
    return published.then(() => this.settle("ack"), (error: unknown) => {
      // The copy is not safe: leave the original unsettled so the caller can retry.
      this.#settled = false;
      throw error;
    });
  }

  release(headers: Record<string, unknown> = {}): Promise<void> {
    const claimed = this.#claim("release");
    if (claimed) return claimed;
    // Gone from the broker's view already: it comes back by itself; copy nothing.
    if (!this.settleable) return this.settle("release");
    let published: Promise<void> | void;
    try {
      published = this.publishCopy(this.queue, copyProps(this.props, headers));
    } catch {
      return this.settle("requeue");
    }
    if (published === undefined) return this.settle("ack");
    return published.then(
      () => this.settle("ack"),
      // The copy is not safe: hand the original back instead, counted or not.
      () => this.settle("requeue"),
    );
  }

  /** Whether the broker can still settle this delivery (its channel or session is open). */
  protected abstract get settleable(): boolean;

  /** Epoch ms, for the dead letter's `x-dts-dead-at`. */
  protected abstract now(): number;

  /** Publish a copy of this delivery's body to `queue`; a promise when the confirm is asynchronous. */
  protected abstract publishCopy(queue: string, props: MessageProps): Promise<void> | void;

  /** Settle on the broker; called once, after the claim. Rejects, never throws. */
  protected abstract settle(action: SettleAction): Promise<void>;

  /** Take the one settlement, or a rejection when it was taken already. */
  #claim(action: SettleAction): Promise<void> | null {
    if (!this.#settled) {
      this.#settled = true;
      return null;
    }
    return Promise.reject(
      new BrokerError(
        `Cannot ${action} message from queue "${this.queue}": it is already settled`,
        {
          recoverable: false,
        },
      ),
    );
  }
}
