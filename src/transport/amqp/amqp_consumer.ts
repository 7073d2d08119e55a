/**
 * One `consume()` iteration of an `AmqpTransport`: its own channel (its own
 * prefetch), turned into an async iterable, and restarted on the new
 * connection after a reconnect or after the broker closed the channel.
 * @module
 */

import type { ChannelModel, Message } from "amqplib";
import { BrokerError } from "../../errors.ts";
import { redactText } from "../../log/redact.ts";
import { ChannelSlot } from "./amqp_channel_slot.ts";
import { AmqpDelivery, type AmqpDeliveryHost } from "./amqp_delivery.ts";
import { brokerError, errorCode } from "./amqp_errors.ts";
import { AsyncQueue } from "../async_queue.ts";
import type { ConsumeOptions } from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

/** What an `AmqpConsumer` needs from its transport. */
export interface ConsumerHost extends AmqpDeliveryHost {
  /** Every open consumer and get channel, to close them in order on `close()`. */
  slots: Set<ChannelSlot>;
  /** The connection consumers should be on now, or null while disconnected. */
  liveConnection(): ChannelModel | null;
  /** The consumer stopped for good: do not resume it after a reconnect. */
  forget(consumer: AmqpConsumer): void;
  /** The queue is gone (the broker said so): its declarations must run again. */
  forgetDeclared(queue: string): void;
  log: TransportLog;
}

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

/** One `consume()` iteration: its own channel, restarted after reconnects. */
export class AmqpConsumer {
  /** What the `for await` loop reads; ends when the consumer stops. */
  readonly stream: AsyncQueue<AmqpDelivery>;
  #host: ConsumerHost;
  #queue: string;
  #prefetch: number;
  #signal: AbortSignal | undefined;
  #onReturned: ((delivery: AmqpDelivery) => void) | undefined;
  #slot: ChannelSlot | null = null;
  #startedOn: ChannelModel | null = null;
  #consumerTag: string | null = null;
  #stopped = false;
  #onAbort = (): void => this.stop(true);

  /** Ready to `start()`; an already aborted signal ends the stream at once. */
  constructor(host: ConsumerHost, queue: string, options: ConsumeOptions) {
    this.#host = host;
    this.#queue = queue;
    this.#prefetch = options.prefetch;
    this.#signal = options.signal;
    this.#onReturned = options.onReturned;
    this.stream = new AsyncQueue<AmqpDelivery>(() => this.stop(true));
    if (this.#signal?.aborted) {
      this.#stopped = true;
      this.stream.end();
    } else {
      this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** Open a channel on `conn` and start consuming; failures end the iteration with the error. */
  async start(conn: ChannelModel): Promise<void> {
    if (this.#stopped || this.#startedOn === conn) return;
    this.#startedOn = conn;
    let slot: ChannelSlot | null = null;
    try {
      slot = new ChannelSlot(await conn.createChannel(), this.#host.slots);
      const current = slot;
      current.channel.on("close", () => this.#onChannelClosed(current));
      await current.channel.prefetch(this.#prefetch);
      const reply = await current.channel.consume(
        this.#queue,
        (message) => this.#onMessage(current, message),
        { noAck: false },
      );
      this.#slot = current;
      this.#consumerTag = reply.consumerTag;
      if (this.#stopped) this.#retire(current);
    } catch (error) {
      void slot?.close();
      if (this.#startedOn === conn) this.#startedOn = null;
      if (errorCode(error) === 404) this.#host.forgetDeclared(this.#queue);
      // A dead connection is the reconnect's business; anything else ends the iteration.
      if (this.#host.liveConnection() === conn && !this.#stopped) {
        this.#fail(brokerError(`consume queue "${this.#queue}"`, error));
      }
    }
  }

  /** Stop consuming; with `requeueBuffered`, deliveries not yet read go back now. */
  stop(requeueBuffered: boolean): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.forget(this);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const buffered = this.stream.takeBuffered();
    this.stream.end();
    // Never started here: give them back uncounted (a quorum queue would count a requeue).
    if (requeueBuffered) { for (const delivery of buffered) delivery.release().catch(noop); }
    const slot = this.#slot;
    if (slot !== null && slot.open) this.#retire(slot);
  }

  #retire(slot: ChannelSlot): void {
    const tag = this.#consumerTag;
    this.#consumerTag = null;
    const cancelled = tag !== null && slot.open ? slot.channel.cancel(tag).catch(noop) : RESOLVED;
    slot.retire(cancelled);
  }

  #fail(error: BrokerError): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.forget(this);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.stream.fail(error);
  }

  #onMessage(slot: ChannelSlot, message: Message | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted); there is nothing to ack.
      this.#host.forgetDeclared(this.#queue);
      this.#consumerTag = null;
      slot.retire(RESOLVED);
      this.#fail(
        new BrokerError(
          `Cannot consume queue "${this.#queue}": the broker cancelled the consumer`,
          {
            recoverable: false,
          },
        ),
      );
      return;
    }
    slot.unsettled++;
    const delivery = new AmqpDelivery(this.#host, slot, this.#queue, message);
    if (this.#stopped || !this.stream.push(delivery)) delivery.release().catch(noop);
  }

  #onChannelClosed(slot: ChannelSlot): void {
    if (slot !== this.#slot) return;
    this.#slot = null;
    this.#consumerTag = null;
    // Deliveries of a dead channel are back in the queue already: never hand them out.
    for (const delivery of this.stream.takeBuffered()) {
      try {
        this.#onReturned?.(delivery);
      } catch { /* a listener that throws changes nothing here */ }
    }
    const conn = this.#startedOn;
    this.#startedOn = null;
    if (this.#stopped || slot.error === null) return; // connection lost: the reconnect restarts us
    this.#host.log("warn", "consumer channel closed by the broker; restarting", {
      queue: this.#queue,
      error: redactText(slot.error.message),
    });
    this.#host.clock.sleep(100).then(() => {
      const live = this.#host.liveConnection();
      if (live !== null && live === conn) return this.start(live);
    }).catch(noop);
  }
}
