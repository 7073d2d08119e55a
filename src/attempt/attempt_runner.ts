/**
 * What runs an attempt, and what it reports. Two runners keep the same
 * contract: `runInline` (on the caller's thread: tests, embedding) and
 * `HostedRunner` (in a plugin host, a Web Worker: what `dts worker` uses).
 * @module
 */

import type { ErrorInfo } from "../errors.ts";
import type { TaskContext, TaskDefinition } from "../plugin/task_plugin.ts";

/** How one attempt ended. Knows nothing about queues or acks. */
export type AttemptOutcome =
  | { ok: true; value: unknown; runtimeMs: number }
  | {
    ok: false;
    error: ErrorInfo;
    /** False when the thrown value said `retryable === false`, or retrying cannot help. */
    retryable: boolean;
    runtimeMs: number;
    /** It passed its time limit. */
    timedOut: boolean;
    /** It was cut short from outside (the worker stopping); its message goes back, uncharged. */
    stopped: boolean;
    /** It was revoked with terminate while it ran: its outcome is REVOKED, never a retry. */
    revoked?: boolean;
  };

/** What the worker passes besides the task: the message's fields and its own stop signal. */
export interface AttemptInput extends Omit<TaskContext, "signal"> {
  /** Aborts when the worker stops for good; the attempt then counts as `stopped`. */
  stopSignal: AbortSignal;
  /** Aborts, with a `TaskRevokedError`, when the task is revoked with terminate. */
  revokeSignal?: AbortSignal;
}

/** Runs attempts; never rejects (every failure is an outcome). */
export interface AttemptRunner {
  run(task: TaskDefinition, input: AttemptInput): Promise<AttemptOutcome>;
  /** Stop whatever still runs and free what the runner holds. */
  close(): Promise<void>;
}

/** Raised into `ctx.signal` and reported when an attempt passes its task's `timeoutMs`. */
export class TaskTimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(ms: number) {
    super(`Task did not finish within ${ms} ms`);
    this.name = "TaskTimeoutError";
    this.timeoutMs = ms;
  }
}

/** Raised into `ctx.signal` when the worker stops before the attempt finished. */
export class WorkerStoppedError extends Error {
  constructor() {
    super("The worker stopped before the task finished");
    this.name = "WorkerStoppedError";
  }
}

/** Raised into `ctx.signal` when the running task is revoked with terminate (Celery's name). */
export class TaskRevokedError extends Error {
  constructor(reason: string) {
    super(`Task was revoked: ${reason}`);
    this.name = "TaskRevokedError";
  }
}
