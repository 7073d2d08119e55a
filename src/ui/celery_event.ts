/**
 * A Celery event as the dashboard reads it: the JSON body Celery (and a dts
 * worker with events on) publishes on the `celeryev` exchange. Only the
 * fields the dashboard shows are named; the rest is kept as it came.
 * @module
 */

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

/** Whether an event is about a task (else about a worker). */
export function isTaskEvent(event: CeleryEvent): boolean {
  return event.type.startsWith("task-");
}

/**
 * Read an event body; null when it is not one (no `type` string, no numeric
 * `timestamp`): the dashboard ignores what it cannot read.
 */
export function readCeleryEvent(value: unknown): CeleryEvent | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const event = value as Record<string, unknown>;
  if (typeof event.type !== "string" || typeof event.timestamp !== "number") return null;
  if (event.type.startsWith("task-") && typeof event.uuid !== "string") return null;
  return event as CeleryEvent;
}
