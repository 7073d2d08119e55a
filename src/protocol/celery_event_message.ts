/**
 * Celery's event messages (`celery/events/event.py`, `dispatcher.py`): one
 * JSON object per message on the topic exchange `celeryev`, routed by its
 * type with the dash made a dot (`task-succeeded` → `task.succeeded`),
 * transient (delivery mode 1), with a `hostname` header. Celery's own
 * workers also batch task events as a JSON list under `task.multi`, so a
 * reader takes a list as well as one object.
 * @module
 */

import type { PublishOptions } from "../transport/transport.ts";
import { encodeJsonBody, JSON_CONTENT_TYPE, UTF8_ENCODING } from "./json_body.ts";

/** The exchange Celery sends events on (`event_exchange`), a durable topic exchange. */
export const EVENT_EXCHANGE = "celeryev";

/** What every event from one sender carries, before its own fields (`EventDispatcher.publish`). */
export interface EventSender {
  /** The node name, e.g. `worker-a.123@host` (Celery's `hostname`). */
  hostname: string;
  /** Hours west of UTC, as Python's `time.timezone // 3600` (`celery.utils.time.utcoffset`). */
  utcoffset: number;
  pid: number;
}

/** One event ready to publish. */
export interface EncodedEvent {
  routingKey: string;
  body: Uint8Array;
  /** Celery's properties, and `mandatory: false`: nobody may be listening. */
  options: PublishOptions;
}

/** Routing key of an event type: `task-succeeded` → `task.succeeded` (Celery replaces the dashes). */
export function eventRoutingKey(type: string): string {
  return type.replaceAll("-", ".");
}

/**
 * Encode an event as Celery's dispatcher sends it. The body's keys come in
 * Celery's order: `hostname`, `utcoffset`, `pid`, `clock`, the event's own
 * fields, then `timestamp` (seconds since the epoch) and `type`.
 */
export function encodeEvent(
  type: string,
  sender: EventSender,
  event: { clock: number; timestampMs: number; fields: Record<string, unknown> },
): EncodedEvent {
  const body = {
    hostname: sender.hostname,
    utcoffset: sender.utcoffset,
    pid: sender.pid,
    clock: event.clock,
    ...event.fields,
    timestamp: event.timestampMs / 1000,
    type,
  };
  return {
    routingKey: eventRoutingKey(type),
    body: encodeJsonBody(body),
    options: {
      exchange: EVENT_EXCHANGE,
      mandatory: false,
      contentType: JSON_CONTENT_TYPE,
      contentEncoding: UTF8_ENCODING,
      headers: { hostname: sender.hostname },
      persistent: false,
      priority: 0,
    },
  };
}

/** `utcoffset` of this process now, as Celery computes it: hours west of UTC, rounded down. */
export function localUtcOffset(now: Date = new Date()): number {
  // getTimezoneOffset() is minutes west, DST included, as Python's timezone/altzone pick.
  return Math.floor(now.getTimezoneOffset() / 60);
}
