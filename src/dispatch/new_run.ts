/**
 * One dispatch run from start to end: pre-flight, a run id, the journal
 * (written before anything is sent), the header, the sends, and following
 * the results to the saved document. The command line only decides how it
 * is shown (`follow`).
 * @module
 */
import type { EventEmitter } from "../events/event_emitter.ts";
import type { Logger } from "../log/logger.ts";
import { redactUrl } from "../log/redact.ts";
import type { DispatchRun } from "../report/task_event.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { dispatch, type DispatchJob } from "./dispatcher.ts";
import { announceRun, followRun, type FollowRunOptions, journalErrorLogger } from "./follow_run.ts";
import type { JournalWriter } from "./journal_writer.ts";
import { preflight } from "./preflight.ts";
import { startJournal } from "./run_journal.ts";
import { createRunId, replyQueueExpiresMs, replyQueueName } from "./run_id.ts";

/** What a new run sends and where it keeps its results. */
export interface NewRunOptions {
  transport: Transport;
  /** The config's `name`. */
  name: string;
  /** The config file, recorded for `--resume`. */
  configPath: string;
  jobs: readonly (DispatchJob & { id: string })[];
  /** Per task: no final result by then → TIMEOUT. */
  timeoutMs: number;
  expectedWorkers: number | null;
  /** How a missing task queue is declared. */
  queueOptions: TaskQueueOptions;
  /** Where the results document and journal go; null writes no file (`--no-save`). */
  resultsDir: string | null;
  /** Aborted (SIGINT, SIGTERM): the run is interrupted. */
  signal: AbortSignal;
  /** Where the pre-flight warns. */
  logger: Logger;
  /** Send Celery's `task-sent` event for each task (`dispatch.events`). @default none */
  sentEvents?: EventEmitter | null;
  /** How the run is shown, once its id is known: reporter, logger, output. */
  follow(runId: string): Omit<FollowRunOptions, "run" | "events" | "journal" | "replyQueue">;
}

/** Run a dispatch to its end (or interrupt) and resolve to the run. */
export async function runNewDispatch(options: NewRunOptions): Promise<DispatchRun> {
  const { transport, jobs, timeoutMs, expectedWorkers: expected } = options;
  const { serving: workers, answered } = await preflight(
    transport,
    jobs.map((job) => job.queue),
    { expected, logger: options.logger },
  );
  const startedAt = Date.now();
  const runId = createRunId(new Date(startedAt));
  const replyQueue = replyQueueName(runId);
  const expiresMs = replyQueueExpiresMs(timeoutMs);
  const broker = redactUrl(transport.url);
  const run = { name: options.name, runId, broker, startedAt, expectedWorkers: expected, workers };
  let journal: JournalWriter | null = null;
  try {
    // Written before anything is sent. Not for memory://: it dies with this process.
    if (options.resultsDir !== null && !broker.startsWith("memory:") && !options.signal.aborted) {
      journal = await startJournal(options.resultsDir, {
        kind: "run",
        version: 1,
        run_id: runId,
        name: run.name,
        broker,
        config: options.configPath,
        started_at: new Date(startedAt).toISOString(),
        timeout_ms: timeoutMs,
        reply_queue: replyQueue,
        reply_queue_expires_ms: expiresMs,
        expected_workers: expected,
        workers,
        jobs: jobs.map(({ id, task, queue }) => ({ id, task, queue })),
      });
    }
    const follow = options.follow(runId);
    await announceRun({
      ...run,
      journal: journal?.path ?? null,
      taskCount: jobs.length,
      answered: answered.length,
      taskNames: [...new Set(jobs.map((job) => job.task))],
    }, { ...follow, replyQueue });
    const events = dispatch({
      transport,
      jobs,
      timeoutMs,
      queueOptions: options.queueOptions,
      signal: options.signal,
      replyQueue,
      // Without a journal nothing could resume the run: the queue need not wait for long.
      replyQueueExpiresMs: journal === null ? undefined : expiresMs,
      journal,
      onJournalError: journalErrorLogger(follow.logger, journal),
      keepReplyQueue: journal !== null,
      sentEvents: options.sentEvents,
    });
    const { run: ended } = await followRun({
      ...follow,
      run,
      events,
      journal,
      replyQueue: journal === null ? null : { transport, name: replyQueue },
    });
    return ended;
  } finally {
    await journal?.close();
  }
}
