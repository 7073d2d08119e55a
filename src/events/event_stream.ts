/**
 * Following the fleet's Celery events: `subscribeEvents()` binds a queue of
 * its own to `celeryev` and hands each event to a callback, as
 * `celery events` and Flower do. Events from dts and Celery workers and
 * senders alike; a message that is not a readable event is counted and
 * skipped, never thrown.
 *
 * @example
 * ```ts
 * const events = await subscribeEvents(transport, (event) => {
 *   if (event.type === "task-succeeded") console.log(event.uuid, event.fields.runtime);
 * });
 * // …
 * await events.close();
 * ```
 * @module
 */

import { within } from "../clock.ts";
import type { Transport } from "../transport/transport.ts";
import { EVENT_EXCHANGE } from "../protocol/celery_event_message.ts";
import { decodeEvents, type EventLimits, type FleetEvent, type SkipReason } from "./fleet_event.ts";

/** How long `close()` waits for the broker to delete the queue. */
const CLOSE_WAIT_MS = 2000;

export type { FleetEvent, SkipReason } from "./fleet_event.ts";

/** How to subscribe. */
export interface SubscribeOptions {
  /** Topic patterns to bind (`task.#`, `worker.heartbeat`, …). @default ["#"] (every event) */
  patterns?: string[];
  /** Drop events that waited longer than this in the queue (Celery's `event_queue_ttl`). @default 5000 */
  messageTtlMs?: number;
  /** The broker deletes the queue this long after the subscriber is gone (Celery's `event_queue_expires`). @default 60000 */
  expiresMs?: number;
  /** How much one message may hold. */
  limits?: EventLimits;
  /** Told of each skipped message or batch entry (for a log line); must not throw. */
  onSkip?(reason: SkipReason): void;
}

/** Counts since the subscription began. */
export interface EventStreamStats {
  /** Events handed to the callback. */
  received: number;
  /** Messages or batch entries skipped, by reason. */
  skipped: Record<SkipReason, number>;
  /** Times the callback threw (each is caught; the stream goes on). */
  callbackErrors: number;
}

/** A live subscription. */
export interface EventSubscription extends AsyncDisposable {
  /** The queue bound to `celeryev`: `celeryev.<uuid>`, as Celery's receivers name theirs. */
  readonly queue: string;
  readonly stats: Readonly<EventStreamStats>;
  /** Resolves when the stream ends: after `close()`, or when its transport closes. */
  readonly done: Promise<void>;
  /** Stop receiving and delete the queue; resolves once the consumer has ended. */
  close(): Promise<void>;
}

/**
 * Subscribe to the fleet's events. Resolves once the queue is bound: every
 * event published after that reaches `onEvent`, in the order each sender
 * sent them. The queue is not durable, auto-deleted, and drops events older
 * than `messageTtlMs`, so a slow or absent subscriber never fills the broker.
 * @throws {BrokerError} when the queue cannot be declared or bound
 */
export async function subscribeEvents(
  transport: Transport,
  onEvent: (event: FleetEvent) => void,
  options: SubscribeOptions = {},
): Promise<EventSubscription> {
  const queue = `${EVENT_EXCHANGE}.${crypto.randomUUID()}`;
  await transport.assertExchange(EVENT_EXCHANGE, "topic", { durable: true });
  await transport.assertQueue(queue, {
    durable: false,
    autoDelete: true,
    messageTtlMs: options.messageTtlMs ?? 5000,
    expiresMs: options.expiresMs ?? 60_000,
  });
  for (const pattern of options.patterns ?? ["#"]) {
    await transport.bindQueue(queue, EVENT_EXCHANGE, pattern);
  }
  const stats: EventStreamStats = {
    received: 0,
    skipped: { too_large: 0, not_json: 0, too_deep: 0, bad_shape: 0 },
    callbackErrors: 0,
  };
  const stop = new AbortController();
  const done = follow(transport, queue, stop.signal, (body, props) => {
    const decoded = decodeEvents(body, props, options.limits);
    for (const reason of decoded.skipped) {
      stats.skipped[reason]++;
      options.onSkip?.(reason);
    }
    for (const event of decoded.events) {
      stats.received++;
      try {
        onEvent(event);
      } catch {
        stats.callbackErrors++;
      }
    }
  });
  const close = async (): Promise<void> => {
    stop.abort();
    await done;
    // With the broker away this would wait for it; the queue expires by itself (expiresMs).
    await within(transport.deleteQueue(queue).catch(() => {}), CLOSE_WAIT_MS);
  };
  return { queue, stats, done, close, [Symbol.asyncDispose]: close };
}

/** Consume `queue` until `signal` aborts or the transport closes; never rejects. */
async function follow(
  transport: Transport,
  queue: string,
  signal: AbortSignal,
  handle: (body: Uint8Array, props: Parameters<typeof decodeEvents>[1]) => void,
): Promise<void> {
  try {
    for await (const delivery of transport.consume(queue, { prefetch: 200, signal })) {
      handle(delivery.body, delivery.props);
      // Events are transient: losing the ack (a dropped channel) only means a repeat.
      delivery.ack().catch(() => {});
    }
  } catch {
    // The queue was deleted under it or the connection closed for good: the stream ends.
  }
}
