/**
 * What happens to a dispatched task, as a stream of events. The dispatcher
 * yields them; reporters format them.
 * @module
 */
import type { ErrorInfo } from "../errors.ts";

/**
 * Final states of a dispatched task (SPEC "Results"). `INTERRUPTED`: the
 * dispatch was stopped (SIGINT, SIGTERM) before a result arrived; the task
 * itself may still run, and `dts dispatch --resume` can collect it.
 * `SKIPPED`: never sent, since a job it comes after did not succeed (or the
 * dispatch stopped while it waited).
 */
export type FinalStatus =
  | "SUCCESS"
  | "FAILURE"
  | "REVOKED"
  | "TIMEOUT"
  | "INTERRUPTED"
  | "SKIPPED";

/** Where a task stands in its dispatch's job graph (jobs with `id`/`after`). */
export interface JobPlace {
  /** The config job's `id`; absent for a job without one. */
  job?: string;
  /** The job ids it waits for. @default [] */
  after?: string[];
}

/** One state change of one task. `at` is epoch ms. */
export type TaskEvent =
  & { id: string; task: string; queue: string; at: number }
  & (
    | ({ type: "SENT" } & JobPlace)
    /** Held back until the jobs it comes after end; then SENT, or SKIPPED. */
    | ({ type: "WAITING" } & JobPlace)
    | { type: "RECEIVED" | "STARTED"; worker: string }
    | { type: "RETRY"; retries: number; delayMs: number | null; error: ErrorInfo | null }
    | {
      type: "SUCCESS";
      result: unknown;
      runtimeMs: number | null;
      worker: string | null;
      retries: number;
    }
    | {
      /** REVOKED: cancelled (`dts revoke`, Celery's revoke) or expired before it ran. */
      type: "FAILURE" | "REVOKED";
      error: ErrorInfo | null;
      runtimeMs: number | null;
      worker: string | null;
      retries: number;
    }
    | { type: "TIMEOUT" | "INTERRUPTED"; error: ErrorInfo | null; retries: number }
    | { type: "SKIPPED"; error: ErrorInfo | null; retries: number }
  );

/** True for the event that ends a task. */
export function isFinalEvent(event: TaskEvent): boolean {
  return event.type !== "SENT" && event.type !== "WAITING" && event.type !== "RECEIVED" &&
    event.type !== "STARTED" && event.type !== "RETRY";
}

/** The outcome of one task in a finished dispatch (SPEC results JSON, camelCase). */
export interface TaskOutcome {
  task: string;
  id: string;
  queue: string;
  status: FinalStatus;
  result: unknown;
  error: ErrorInfo | null;
  retries: number;
  runtimeMs: number | null;
  worker: string | null;
  /** Null for a task never sent (SKIPPED). */
  sentAt: number | null;
  doneAt: number | null;
  /** Its job's `id`, or null. */
  job: string | null;
  /** The job ids it waited for. */
  after: string[];
}

/** A finished dispatch. */
export interface DispatchRun {
  name: string;
  /** `YYYYmmdd_HHMMSS-<6 hex>`: names the reply queue and the journal; `--resume` takes it. */
  runId: string;
  /** Redacted broker URL. */
  broker: string;
  startedAt: number;
  finishedAt: number;
  expectedWorkers: number | null;
  /** Workers that serve the jobs' queues (pre-flight `active_queues`). */
  workers: string[];
  tasks: TaskOutcome[];
  /** Stopped by SIGINT or SIGTERM before every task had a final result. */
  interrupted: boolean;
}

/** What a dispatch is about to do, known before the first send. */
export interface DispatchPlan {
  name: string;
  /** The run id (`dts dispatch --resume` takes it). */
  runId: string;
  /** The run's journal file, if it keeps one. */
  journal: string | null;
  /** A resume: how many tasks had no result yet. Absent for a fresh run. */
  missing?: number;
  /** Redacted broker URL. */
  broker: string;
  expectedWorkers: number | null;
  /** Workers that serve the jobs' queues (pre-flight `active_queues`), e.g. `worker-a.4182@host`. */
  workers: string[];
  /** How many workers answered at all, serving these queues or not. @default workers.length */
  answered?: number;
  /** How many tasks will be sent. */
  taskCount: number;
  /** The jobs with an id, when any job waits for another: the live view shows their progress. */
  jobs?: readonly { id: string; task: string; count: number; after: readonly string[] }[];
  /** The distinct task names to be sent, to line up the timeline. @default [] */
  taskNames?: readonly string[];
  startedAt: number;
}

/** Formats events as they come and the run once it is over. A reporter must not throw. */
export interface Reporter {
  begin(plan: DispatchPlan): void;
  report(event: TaskEvent): void;
  finish(run: DispatchRun): Promise<void>;
}
