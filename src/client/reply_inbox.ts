/**
 * The reply queue of one sender, read: every delivery goes to a handler,
 * and is acknowledged only once the handler's work is done (a journal may
 * have to write it first), so a sender that dies in between gets it again.
 * The queue itself outlives dropped connections (`reply_queue.ts`).
 * @module
 */
import { type Clock, systemClock, within } from "../clock.ts";
import type { Delivery, Transport } from "../transport/transport.ts";

/** How to read a reply queue. */
export interface ReplyInboxOptions {
  transport: Transport;
  /** The reply queue, declared already (`openReplyQueue`). */
  name: string;
  /** Unacknowledged replies held at once. @default 1000 */
  prefetch?: number;
  /** Take one reply; the delivery is acknowledged once the returned promise resolves. */
  onReply(delivery: Delivery): Promise<unknown> | void;
  /** @default systemClock */
  clock?: Clock;
}

/** How long stopping the consumer may hold up the end of a run. */
const CONSUMER_STOP_MS = 2000;

/** Reads one reply queue until stopped. */
export class ReplyInbox {
  readonly #options: ReplyInboxOptions;
  readonly #stop = new AbortController();
  readonly #pending = new Set<Promise<unknown>>();
  #consumer: Promise<void> | null = null;

  constructor(options: ReplyInboxOptions) {
    this.#options = options;
  }

  /** Take what already waits in the queue, one `get` at a time, while `more()` says so. */
  async drain(more: () => boolean): Promise<void> {
    const { transport, name } = this.#options;
    while (more()) {
      const delivery = await transport.get(name);
      if (delivery === null) return;
      this.#take(delivery);
    }
  }

  /** Start consuming (once). */
  start(): void {
    if (this.#consumer !== null) return;
    const { transport, name } = this.#options;
    const deliveries = transport.consume(name, {
      prefetch: this.#options.prefetch ?? 1000,
      signal: this.#stop.signal,
    });
    this.#consumer = (async () => {
      for await (const delivery of deliveries) this.#take(delivery);
    })();
  }

  /**
   * Stop consuming and wait for the handlers' work (and so the acks) to end.
   * Replies not yet acknowledged go back to the queue when the transport closes.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    const consumer = (this.#consumer ?? Promise.resolve()).catch(() => {});
    await within(consumer, CONSUMER_STOP_MS, this.#options.clock ?? systemClock);
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #take(delivery: Delivery): void {
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(this.#options.onReply(delivery));
    } catch (error) {
      work = Promise.reject(error);
    }
    // ACK ONLY ONCE THE HANDLER'S WORK IS DONE (a journal, say); a failed handler leaves it unacked.
    const tracked = work.then(() => delivery.ack().catch(() => {}), () => {})
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}
