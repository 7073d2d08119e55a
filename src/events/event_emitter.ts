/**
 * Sending Celery events without ever making the sender wait: `send()`
 * starts a publish and returns. Events are a view of the work, not the
 * work: when the broker is slow or away, events are dropped and counted,
 * never buffered without bound and never a reason for a task to wait or
 * fail.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { encodeEvent, EVENT_EXCHANGE, localUtcOffset } from "../protocol/celery_event_message.ts";
import type { Transport } from "../transport/transport.ts";

/** How an `EventEmitter` sends. */
export interface EventEmitterOptions {
  transport: Transport;
  /** The sender's node name: a worker's name, or `gen<pid>@host` for a sender. */
  hostname: string;
  /** Publishes awaiting their confirm at most; one more event is dropped. @default 1000 */
  maxInFlight?: number;
  /** @default systemClock */
  clock?: Clock;
}

/** What an emitter did with the events it was given. */
export interface EmitterStats {
  /** Confirmed by the broker (routed or not: nobody may be listening). */
  sent: number;
  /** Not sent: the broker was disconnected, or `maxInFlight` publishes were waiting already. */
  dropped: number;
  /** Sent, and refused or cut off by the broker. */
  failed: number;
}

/** Sends events for one sender; see the module notes. */
export class EventEmitter {
  readonly stats: EmitterStats = { sent: 0, dropped: 0, failed: 0 };
  readonly hostname: string;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #maxInFlight: number;
  readonly #pending = new Set<Promise<void>>();
  #lamport = 0;
  #declared: Promise<void> | null = null;

  constructor(options: EventEmitterOptions) {
    this.#transport = options.transport;
    this.hostname = options.hostname;
    this.#clock = options.clock ?? systemClock;
    this.#maxInFlight = options.maxInFlight ?? 1000;
  }

  /** Declare `celeryev` (as Celery does: a durable topic exchange) so the first events are not lost to a missing exchange. */
  prepare(): Promise<void> {
    this.#declared ??= this.#transport.assertExchange(EVENT_EXCHANGE, "topic", { durable: true });
    return this.#declared;
  }

  /** Publish one event in the background; returns at once. `fields` follow Celery's names and order. */
  send(type: string, fields: Record<string, unknown>): void {
    if (!this.#transport.connected || this.#pending.size >= this.#maxInFlight) {
      this.stats.dropped++;
      return;
    }
    // Celery forwards its Lamport clock once per event sent.
    const clock = ++this.#lamport;
    const sender = { hostname: this.hostname, utcoffset: localUtcOffset(), pid: Deno.pid };
    const event = encodeEvent(type, sender, { clock, timestampMs: this.#clock.now(), fields });
    const publish = this.#transport.publish(event.routingKey, event.body, event.options).then(
      () => void this.stats.sent++,
      () => void this.stats.failed++,
    );
    this.#pending.add(publish);
    publish.finally(() => this.#pending.delete(publish));
  }

  /** Wait for the publishes in flight, at most `timeoutMs` (a worker's last `worker-offline`). */
  async flush(timeoutMs: number): Promise<void> {
    if (this.#pending.size === 0) return;
    const stop = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      this.#clock.sleep(timeoutMs, stop.signal).catch(() => {}),
    ]);
    stop.abort();
  }
}
