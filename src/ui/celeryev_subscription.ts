/**
 * The dashboard's one subscription to the fleet's Celery events: a private
 * queue bound to the `celeryev` topic exchange (as `celery events` and
 * Flower listen), read by the server and shared by every page.
 *
 * TODO(#15): replace with `subscribeEvents()` of src/events/ once the
 * events branch lands; this is the interim reader with the same shape.
 * @module
 */
import { decodeJsonBody } from "../protocol/json_body.ts";
import type { Transport } from "../transport/transport.ts";
import { type CeleryEvent, readCeleryEvent } from "./celery_event.ts";

/** Celery's event exchange. */
export const EVENT_EXCHANGE = "celeryev";

/** An open subscription. */
export interface EventSubscription {
  /** The events, in arrival order; ends on `close()` or when the transport closes. */
  events: AsyncIterable<CeleryEvent>;
  close(): Promise<void>;
}

/**
 * Subscribe to every event on `celeryev`. The queue is not durable and
 * expires a minute after the dashboard goes, so nothing piles up for a
 * dashboard that is not running (events are for the live view; missing ones
 * while it is down are what `dts dispatch` results files cover).
 */
export async function subscribeCeleryEvents(
  transport: Transport,
  options: { name?: string } = {},
): Promise<EventSubscription> {
  const queue = options.name ?? `dts.ui.events.${crypto.randomUUID()}`;
  // Celery declares celeryev as a durable topic exchange; the same declaration is idempotent.
  await transport.assertExchange(EVENT_EXCHANGE, "topic", { durable: true });
  await transport.assertQueue(queue, { durable: false, expiresMs: 60_000, messageTtlMs: 60_000 });
  await transport.bindQueue(queue, EVENT_EXCHANGE, "#");
  const stop = new AbortController();
  const consumer = transport.consume(queue, { prefetch: 500, signal: stop.signal });
  async function* events(): AsyncGenerator<CeleryEvent> {
    for await (const delivery of consumer) {
      let event: CeleryEvent | null = null;
      try {
        event = readCeleryEvent(decodeJsonBody(delivery.body, delivery.props));
      } catch { /* not an event the dashboard can read: skip it */ }
      await delivery.ack().catch(() => {});
      if (event !== null) yield event;
    }
  }
  return {
    events: events(),
    close: async () => {
      stop.abort();
      await transport.deleteQueue(queue).catch(() => {});
    },
  };
}
