/**
 * A worker's row on the dashboard, from its Celery worker events and from
 * what it answers to remote control (`stats`), whichever it sends: a Celery
 * or dts worker without events on still shows, from its `stats` answer.
 * @module
 */
import type { CeleryEvent } from "./celery_event.ts";

/** One worker; times are epoch ms. */
export interface WorkerRow {
  /** `name@host`, as Celery names workers. */
  name: string;
  host: string;
  online: boolean;
  pid: number | null;
  /** Task names it consumes (a dts worker says; a Celery worker's events do not). */
  tasks: string[];
  /** Pool size. */
  concurrency: number | null;
  /** Tasks running now. */
  active: number | null;
  processed: number | null;
  loadavg: number[] | null;
  /** The last worker-heartbeat, or null when it sends none. */
  lastHeartbeatMs: number | null;
  /** Seconds between its heartbeats (Celery's `freq`). */
  freq: number | null;
  /** Last heard of in any way (event or remote control). */
  lastSeenMs: number;
}

/** A row for a worker heard of for the first time. */
export function newWorkerRow(name: string): WorkerRow {
  return {
    name,
    host: name.includes("@") ? name.slice(name.lastIndexOf("@") + 1) : "",
    online: true,
    pid: null,
    tasks: [],
    concurrency: null,
    active: null,
    processed: null,
    loadavg: null,
    lastHeartbeatMs: null,
    freq: null,
    lastSeenMs: 0,
  };
}

/** The row after a worker event; `row` is not changed. */
export function applyWorkerEvent(row: WorkerRow, event: CeleryEvent): WorkerRow {
  const atMs = Math.round(event.timestamp * 1000);
  const next: WorkerRow = { ...row, lastSeenMs: Math.max(row.lastSeenMs, atMs) };
  if (typeof event.pid === "number") next.pid = event.pid;
  if (typeof event.freq === "number") next.freq = event.freq;
  if (typeof event.active === "number") next.active = event.active;
  if (typeof event.processed === "number") next.processed = event.processed;
  if (Array.isArray(event.loadavg)) next.loadavg = event.loadavg.map(Number);
  if (event.type === "worker-offline") next.online = false;
  else {
    next.online = true;
    next.lastHeartbeatMs = Math.max(row.lastHeartbeatMs ?? 0, atMs);
  }
  return next;
}

/** The row after a remote-control `stats` answer heard at `atMs`. */
export function applyWorkerStats(row: WorkerRow, stats: unknown, atMs: number): WorkerRow {
  const s = (stats ?? {}) as Record<string, unknown>;
  const pool = (s.pool ?? {}) as Record<string, unknown>;
  const dts = (s.dts ?? {}) as Record<string, unknown>;
  const total = s.total as Record<string, unknown> | undefined;
  return {
    ...row,
    online: true,
    lastSeenMs: Math.max(row.lastSeenMs, atMs),
    pid: typeof s.pid === "number" ? s.pid : row.pid,
    concurrency: typeof pool["max-concurrency"] === "number"
      ? pool["max-concurrency"] as number
      : row.concurrency,
    tasks: Array.isArray(dts.tasks) ? dts.tasks.map(String) : row.tasks,
    processed: total && typeof total === "object"
      ? Object.values(total).reduce<number>((n, v) => n + (typeof v === "number" ? v : 0), 0)
      : row.processed,
  };
}

/**
 * Whether a worker counts as offline at `nowMs`: it said so, or it has been
 * silent for three heartbeats (Celery's rule of thumb; Flower uses the same),
 * or, without heartbeats, for `silentMs`.
 */
export function isWorkerOffline(row: WorkerRow, nowMs: number, silentMs: number): boolean {
  if (!row.online) return true;
  const beat = row.freq !== null && row.lastHeartbeatMs !== null ? row.freq * 1000 * 3 : silentMs;
  return nowMs - row.lastSeenMs > Math.max(beat, 1);
}
