/**
 * Sending Celery events without ever making the sender wait: `send()`
 * starts a publish and returns. Events are a view of the work, not the
 * work: when the broker is slow or away, events are dropped and counted,
 * never buffered without bound and never a reason for a task to wait or
 * fail.
 *
 * With `batchMs`, task events wait up to that long to go out together as one
 * `task.multi` message (a JSON list), as a Celery worker's event buffer
 * sends them: three or four events per task would otherwise cost the broker
 * more messages than the task and its result. Worker events go out at once,
 * after the task events before them, so the order is kept.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import {
  type EncodedEvent,
  encodeEvent,
  encodeEventBatch,
  encodeEventMessage,
  EVENT_EXCHANGE,
  eventBody,
  eventRoutingKey,
  localUtcOffset,
} from "../protocol/celery_event_message.ts";
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
  /** Task events wait at most this long to be sent together; 0 sends each at once. @default 0 */
  batchMs?: number;
  /** A batch goes out once it holds this many events. @default 100 */
  batchLimit?: number;
}

/** What an emitter did with the events it was given. */
export interface EmitterStats {
  /** Events confirmed by the broker (routed or not: nobody may be listening). */
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
  readonly #batchMs: number;
  readonly #batchLimit: number;
  #batch: Record<string, unknown>[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | null = null;
  #lamport = 0;
  #declared: Promise<void> | null = null;

  constructor(options: EventEmitterOptions) {
    this.#transport = options.transport;
    this.hostname = options.hostname;
    this.#clock = options.clock ?? systemClock;
    this.#maxInFlight = options.maxInFlight ?? 1000;
    this.#batchMs = options.batchMs ?? 0;
    this.#batchLimit = Math.max(1, options.batchLimit ?? 100);
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
    const event = { clock, timestampMs: this.#clock.now(), fields };
    if (this.#batchMs > 0 && type.startsWith("task-")) {
      this.#batch.push(eventBody(type, sender, event));
      if (this.#batch.length >= this.#batchLimit) this.#sendBatch();
      else if (this.#batchTimer === null) {
        const timer = setTimeout(() => this.#sendBatch(), this.#batchMs);
        // A batch waiting does not keep a process alive; stopping flushes it.
        Deno.unrefTimer(timer);
        this.#batchTimer = timer;
      }
      return;
    }
    this.#sendBatch();
    this.#publish(encodeEvent(type, sender, event), 1);
  }

  /** Send the task events waiting in the batch now. */
  #sendBatch(): void {
    if (this.#batchTimer !== null) clearTimeout(this.#batchTimer);
    this.#batchTimer = null;
    const bodies = this.#batch;
    if (bodies.length === 0) return;
    this.#batch = [];
    if (!this.#transport.connected) {
      this.stats.dropped += bodies.length;
      return;
    }
    const [only] = bodies;
    this.#publish(
      bodies.length === 1
        ? encodeEventMessage(eventRoutingKey(String(only.type)), only, this.hostname)
        : encodeEventBatch(bodies, this.hostname),
      bodies.length,
    );
  }

  #publish(event: EncodedEvent, events: number): void {
    const publish = this.#transport.publish(event.routingKey, event.body, event.options).then(
      () => void (this.stats.sent += events),
      () => void (this.stats.failed += events),
    );
    this.#pending.add(publish);
    publish.finally(() => this.#pending.delete(publish));
  }

  /** Send what waits in the batch, then wait for the publishes in flight, at most `timeoutMs` (a worker's last `worker-offline`). */
  async flush(timeoutMs: number): Promise<void> {
    this.#sendBatch();
    if (this.#pending.size === 0) return;
    const stop = new AbortController();
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      this.#clock.sleep(timeoutMs, stop.signal).catch(() => {}),
    ]);
    stop.abort();
  }
}
