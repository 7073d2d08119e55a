/**
 * A task's row on the dashboard, folded from its Celery events. Events may
 * come out of order (a worker's task-started can overtake the sender's
 * task-sent), so a later event never moves a task back from a final state.
 * @module
 */
import type { CeleryState } from "../protocol/celery_result_message.ts";
import type { CeleryEvent } from "./celery_event.ts";

/** Celery's state names, as the page shows them; REJECTED is what a task-rejected event leaves. */
export type TaskState = CeleryState | "REJECTED";

/** One task as the dashboard knows it; times are epoch ms. */
export interface TaskRow {
  id: string;
  name: string | null;
  state: TaskState;
  worker: string | null;
  retries: number;
  /** When its sender sent it (its `task-sent`; only senders with events on send one). */
  sentMs: number | null;
  receivedMs: number | null;
  startedMs: number | null;
  finishedMs: number | null;
  runtimeMs: number | null;
  /** The exception text of a failure or retry. */
  error: string | null;
  updatedMs: number;
}

const STATE_OF: Readonly<Record<string, TaskState>> = {
  "task-sent": "PENDING",
  "task-received": "RECEIVED",
  "task-started": "STARTED",
  "task-retried": "RETRY",
  "task-succeeded": "SUCCESS",
  "task-failed": "FAILURE",
  "task-revoked": "REVOKED",
  "task-rejected": "REJECTED",
};

const FINAL = new Set<TaskState>(["SUCCESS", "FAILURE", "REVOKED", "REJECTED"]);

/** Whether a task in `state` will change no more (unless it is replayed). */
export function isFinalState(state: TaskState): boolean {
  return FINAL.has(state);
}

/** A row for a task seen for the first time. */
export function newTaskRow(id: string, atMs: number): TaskRow {
  return {
    id,
    name: null,
    state: "PENDING",
    worker: null,
    retries: 0,
    sentMs: null,
    receivedMs: null,
    startedMs: null,
    finishedMs: null,
    runtimeMs: null,
    error: null,
    updatedMs: atMs,
  };
}

/** The row after `event` (a task event of this task); `row` is not changed. */
export function applyTaskEvent(row: TaskRow, event: CeleryEvent): TaskRow {
  const atMs = Math.round(event.timestamp * 1000);
  const next: TaskRow = { ...row, updatedMs: Math.max(row.updatedMs, atMs) };
  if (typeof event.name === "string") next.name = event.name;
  if (typeof event.retries === "number") next.retries = Math.max(next.retries, event.retries);
  const worker = event.type === "task-sent" ? undefined : event.hostname;
  if (typeof worker === "string") next.worker = worker;
  const state = STATE_OF[event.type];
  if (state === undefined) return next;
  // The first send: a replay or a retry is not a new send, and its wait belongs to the latency.
  if (event.type === "task-sent") next.sentMs ??= atMs;
  if (event.type === "task-received") next.receivedMs ??= atMs;
  if (event.type === "task-started") next.startedMs = atMs;
  if (event.type === "task-retried") {
    next.retries = Math.max(next.retries, (event.retries ?? row.retries) + 1);
  }
  if (typeof event.exception === "string") next.error = event.exception;
  if (FINAL.has(state)) {
    next.finishedMs = atMs;
    next.runtimeMs = typeof event.runtime === "number"
      ? Math.round(event.runtime * 1000 * 10) / 10
      : next.startedMs === null
      ? null
      : atMs - next.startedMs;
  }
  // A replayed task starts over; else a late non-final event keeps the final state.
  const replayed = isFinalState(row.state) && event.type === "task-received" &&
    atMs > (row.finishedMs ?? 0);
  if (!isFinalState(row.state) || FINAL.has(state) || replayed) next.state = state;
  if (replayed) {
    next.finishedMs = null;
    next.runtimeMs = null;
  }
  return next;
}
