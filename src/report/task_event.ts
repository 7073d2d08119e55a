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
 */
export type FinalStatus = "SUCCESS" | "FAILURE" | "REVOKED" | "TIMEOUT" | "INTERRUPTED";

/** One state change of one task. `at` is epoch ms. */
export type TaskEvent =
  & { id: string; task: string; queue: string; at: number }
  & (
    | { type: "SENT" }
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
  );

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
  sentAt: number;
  doneAt: number | null;
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
