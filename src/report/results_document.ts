/**
 * The results JSON document of a dispatch, exactly as SPEC "Results" shows it.
 * @module
 */
import type { ErrorInfo } from "../errors.ts";
import { redactUrl } from "../log/redact.ts";
import type { DispatchRun, FinalStatus, TaskOutcome } from "./task_event.ts";

/** One task's line in the results document. */
export interface ResultsTask {
  task: string;
  id: string;
  queue: string;
  status: FinalStatus;
  result: unknown;
  /** Without a stack. */
  error: { type: string; message: string } | null;
  retries: number;
  runtime_ms: number | null;
  worker: string | null;
  /** ISO time; null when it was never sent (SKIPPED). */
  sent_at: string | null;
  /** ISO time; null when the task has no result (TIMEOUT, INTERRUPTED, SKIPPED). */
  done_at: string | null;
  /** Its job's `id` in the config, or null. */
  job: string | null;
  /** The job ids it waited for ([] for none). */
  after: string[];
}

/** Totals over the tasks; the ms values are over tasks that report a runtime (null if none). */
export interface ResultsSummary {
  succeeded: number;
  /** FAILURE and TIMEOUT. */
  failed: number;
  /** INTERRUPTED: no result yet when the dispatch was stopped. */
  interrupted: number;
  /** SKIPPED: never sent, as a job it comes after did not succeed. */
  skipped: number;
  retries: number;
  avg_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
}

/** The results JSON document (SPEC "Results"), snake_case keys in SPEC order. */
export interface ResultsDocument {
  name: string;
  /** Names the reply queue and the journal; what `dts dispatch --resume` takes. */
  run_id: string;
  /** Redacted broker URL. */
  broker: string;
  expected_workers: number | null;
  workers: string[];
  started_at: string;
  finished_at: string;
  /** Stopped (SIGINT, SIGTERM) before every task had a final result: a partial document. */
  interrupted: boolean;
  /** Wall time of the whole dispatch. */
  total_ms: number;
  /** Sum of the task runtimes: what running them one after another would take. */
  sequential_ms: number;
  tasks: ResultsTask[];
  summary: ResultsSummary;
}

/** Build the SPEC results document of a finished dispatch. */
export function toResultsDocument(run: DispatchRun): ResultsDocument {
  const tasks = run.tasks.map(toResultsTask);
  const runtimes = run.tasks
    .map((t) => t.runtimeMs)
    .filter((ms): ms is number => typeof ms === "number" && Number.isFinite(ms));
  const sum = runtimes.reduce((a, b) => a + b, 0);
  return {
    name: run.name,
    run_id: run.runId,
    broker: redactUrl(run.broker),
    expected_workers: run.expectedWorkers,
    workers: [...run.workers],
    started_at: isoTime(run.startedAt),
    finished_at: isoTime(run.finishedAt),
    interrupted: run.interrupted,
    total_ms: roundMs(run.finishedAt - run.startedAt),
    sequential_ms: roundMs(sum),
    tasks,
    summary: {
      succeeded: run.tasks.filter((t) => t.status === "SUCCESS").length,
      failed:
        run.tasks.filter((t) =>
          t.status === "FAILURE" || t.status === "TIMEOUT" || t.status === "REVOKED"
        ).length,
      interrupted: run.tasks.filter((t) => t.status === "INTERRUPTED").length,
      skipped: run.tasks.filter((t) => t.status === "SKIPPED").length,
      retries: run.tasks.reduce((total, t) => total + t.retries, 0),
      avg_ms: runtimes.length === 0 ? null : roundMs(sum / runtimes.length),
      min_ms: runtimes.length === 0 ? null : roundMs(Math.min(...runtimes)),
      max_ms: runtimes.length === 0 ? null : roundMs(Math.max(...runtimes)),
    },
  };
}

function toResultsTask(outcome: TaskOutcome): ResultsTask {
  return {
    task: outcome.task,
    id: outcome.id,
    queue: outcome.queue,
    status: outcome.status,
    result: jsonSafe(outcome.result),
    error: toDocumentError(outcome.error),
    retries: outcome.retries,
    runtime_ms: typeof outcome.runtimeMs === "number" && Number.isFinite(outcome.runtimeMs)
      ? roundMs(outcome.runtimeMs)
      : null,
    worker: outcome.worker,
    sent_at: outcome.sentAt === null ? null : isoTime(outcome.sentAt),
    done_at: outcome.doneAt === null ? null : isoTime(outcome.doneAt),
    job: outcome.job,
    after: [...outcome.after],
  };
}

function toDocumentError(error: ErrorInfo | null): { type: string; message: string } | null {
  return error === null ? null : { type: error.type, message: error.message };
}

/** A result that JSON can carry: undefined → null; circular or bigint → its `String()`. */
function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : value;
  } catch {
    return safeString(value);
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Round milliseconds to 0.1. */
function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
