/**
 * A Celery event as the dashboard reads it: the JSON body Celery (and a dts
 * worker with events on) publishes on the `celeryev` exchange. Only the
 * fields the dashboard shows are named; the rest is kept as it came.
 * @module
 */
import type { FleetEvent } from "../events/event_stream.ts";

/** One event; `timestamp` is Unix seconds, as Celery sends it. */
export interface CeleryEvent {
  type: string;
  timestamp: number;
  /** The worker (`name@host`) that sent it; a task-sent's is the sender. */
  hostname?: string;
  uuid?: string;
  name?: string;
  retries?: number;
  /** task-succeeded: seconds the task ran. */
  runtime?: number;
  exception?: string;
  result?: string;
  queue?: string;
  routing_key?: string;
  /** worker-heartbeat: tasks running now, tasks done since start, seconds between beats. */
  active?: number;
  processed?: number;
  freq?: number;
  loadavg?: number[];
  pid?: number;
  sw_ident?: string;
  [key: string]: unknown;
}

/** The dashboard's view of an event from `subscribeEvents()` (src/events/): its body, as Celery sent it. */
export function fromFleetEvent(event: FleetEvent): CeleryEvent {
  return {
    ...event.fields,
    type: event.type,
    hostname: event.hostname,
    timestamp: event.timestampMs / 1000,
    ...(event.uuid === null ? {} : { uuid: event.uuid }),
  };
}
