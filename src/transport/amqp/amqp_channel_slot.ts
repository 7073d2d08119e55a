/**
 * A consumer or get channel of an `AmqpTransport` with a count of its
 * unsettled deliveries, so that retiring it waits for them: closing a channel
 * puts its unsettled messages back in their queues and fails their acks.
 * @module
 */

import type { Channel } from "amqplib";

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

/** A consumer or get channel and how many of its deliveries are unsettled. */
export class ChannelSlot {
  readonly channel: Channel;
  /** False once the channel closed (by us, the broker or a lost connection). */
  open = true;
  /** Why the broker closed the channel; null when it did not (yet). */
  error: Error | null = null;
  /** Deliveries handed out on this channel and not yet settled. */
  unsettled = 0;
  #retireAfter: Promise<unknown> | null = null;

  /** Track `channel`; it stays in `registry` while open, so `close()` of the transport finds it. */
  constructor(channel: Channel, registry: Set<ChannelSlot>) {
    this.channel = channel;
    registry.add(this);
    channel.on("error", (error: Error) => {
      this.error = error;
    });
    channel.on("close", () => {
      this.open = false;
      registry.delete(this);
    });
  }

  /** One delivery of this channel was settled. */
  settled(): void {
    this.unsettled--;
    this.#closeIfIdle();
  }

  /** Close the channel once `after` is done and no delivery is unsettled. */
  retire(after: Promise<unknown>): void {
    this.#retireAfter = after;
    this.#closeIfIdle();
  }

  /** Close the channel now; never rejects. */
  close(): Promise<void> {
    if (!this.open) return RESOLVED;
    this.open = false;
    try {
      return this.channel.close().catch(noop);
    } catch {
      return RESOLVED; // already closed by the broker
    }
  }

  #closeIfIdle(): void {
    const after = this.#retireAfter;
    if (after === null || this.unsettled > 0) return;
    this.#retireAfter = null;
    after.then(() => this.close(), () => this.close());
  }
}
