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

/** A consumer of a stream queue: it starts where its reader is, and gives nothing back. */
export interface StreamPosition {
  /** Where a (re)subscription starts: the reader's next offset, or where it began. */
  offset(): number | string;
}

/** One `consume()` iteration: its own channel, restarted after reconnects. */
export class AmqpConsumer {
  /** What the `for await` loop reads; ends when the consumer stops. */
  readonly stream: AsyncQueue<AmqpDelivery>;
  #host: ConsumerHost;
  #queue: string;
  #prefetch: number;
  #signal: AbortSignal | undefined;
  #onReturned: ((delivery: AmqpDelivery) => void) | undefined;
  #stream: StreamPosition | undefined;
  #slot: ChannelSlot | null = null;
  #startedOn: ChannelModel | null = null;
  #consumerTag: string | null = null;
  /** The prefetch the broker applies to the current subscription. */
  #subscribedWith: number | null = null;
  /** Prefetch changes, one after another. */
  #applying: Promise<void> = RESOLVED;
  #stopped = false;
  #onAbort = (): void => this.stop(true);

  /** Ready to `start()`; an already aborted signal ends the stream at once. */
  constructor(
    host: ConsumerHost,
    queue: string,
    options: ConsumeOptions & { stream?: StreamPosition },
  ) {
    this.#host = host;
    this.#queue = queue;
    this.#prefetch = options.prefetch;
    this.#signal = options.signal;
    this.#onReturned = options.onReturned;
    this.#stream = options.stream;
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
      const prefetch = this.#prefetch;
      this.#consumerTag = await this.#subscribe(current, prefetch);
      this.#slot = current;
      this.#subscribedWith = prefetch;
      if (this.#stopped) this.#retire(current);
      else if (this.#prefetch !== prefetch) void this.setPrefetch(this.#prefetch);
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

  /**
   * Hold at most `prefetch` unsettled deliveries from now on. RabbitMQ applies
   * `basic.qos` only to consumers started after it (an existing consumer
   * keeps its limit), so the consumer re-subscribes on its channel: deliveries
   * taken before stay on the channel and are settled there as usual. While
   * disconnected the next `start()` uses it.
   */
  setPrefetch(prefetch: number): Promise<void> {
    this.#prefetch = prefetch;
    this.#applying = this.#applying.then(() => this.#resubscribe());
    return this.#applying;
  }

  /** Cancel the subscription and subscribe again with the current prefetch; never rejects. */
  async #resubscribe(): Promise<void> {
    const slot = this.#slot;
    const tag = this.#consumerTag;
    const prefetch = this.#prefetch;
    if (this.#stopped || slot === null || !slot.open || tag === null) return;
    if (this.#subscribedWith === prefetch) return;
    try {
      this.#consumerTag = null;
      await slot.channel.cancel(tag);
      const next = await this.#subscribe(slot, prefetch);
      if (slot !== this.#slot || !slot.open) return; // the channel died meanwhile: start() takes over
      this.#consumerTag = next;
      this.#subscribedWith = prefetch;
      if (this.#stopped) this.#retire(slot);
    } catch (error) {
      // A failure closes the channel; its close handler restarts the consumer with this prefetch.
      this.#host.log("warn", "cannot change a consumer's prefetch; the channel restarts", {
        queue: this.#queue,
        prefetch,
        error: redactText(error instanceof Error ? error.message : String(error)),
      });
    }
  }

  /** `basic.qos` then `basic.consume` on `slot`; the consumer tag. */
  async #subscribe(slot: ChannelSlot, prefetch: number): Promise<string> {
    await slot.channel.prefetch(prefetch);
    const stream = this.#stream;
    const reply = await slot.channel.consume(
      this.#queue,
      (message) => this.#onMessage(slot, message),
      stream === undefined
        ? { noAck: false }
        : { noAck: false, arguments: { "x-stream-offset": stream.offset() } },
    );
    return reply.consumerTag;
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
    // A stream keeps every entry anyway: a copy would be a second entry.
    for (const delivery of buffered) this.#giveBack(delivery, requeueBuffered);
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
    if (this.#stopped || !this.stream.push(delivery)) this.#giveBack(delivery, true);
  }

  #giveBack(delivery: AmqpDelivery, requeue: boolean): void {
    if (this.#stream !== undefined) delivery.ack().catch(noop);
    else if (requeue) delivery.release().catch(noop);
  }

  #onChannelClosed(slot: ChannelSlot): void {
    if (slot !== this.#slot) return;
    this.#slot = null;
    this.#consumerTag = null;
    this.#subscribedWith = null;
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
