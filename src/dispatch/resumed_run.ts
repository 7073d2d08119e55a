/**
 * A run picked up again with `dts dispatch --resume`: the journal's results,
 * then the missing ones from the run's reply queue, to the same saved
 * document a run that was never interrupted would have written.
 * @module
 */
import { redactUrl } from "../log/redact.ts";
import type { DispatchRun } from "../report/task_event.ts";
import type { Transport } from "../transport/transport.ts";
import { collectMissing } from "./collect_missing.ts";
import { announceRun, followRun, type FollowRunOptions, journalErrorLogger } from "./follow_run.ts";
import type { JournalWriter } from "./journal_writer.ts";
import { checkResumable } from "./resume_plan.ts";
import { type FoundRun, reopenJournal } from "./run_journal.ts";

/** A found run to resume and how to show it. */
export interface ResumedRunOptions {
  transport: Transport;
  found: FoundRun;
  signal: AbortSignal;
  /** How the run is shown: reporter, logger, output. */
  follow: Omit<FollowRunOptions, "run" | "events" | "journal" | "replyQueue">;
}

/**
 * Resume a run to its end (or interrupt) and resolve to the whole run.
 * @throws {UsageError} when its reply queue is gone or still has a consumer
 */
export async function runResumedDispatch(options: ResumedRunOptions): Promise<DispatchRun> {
  const { transport, found, follow } = options;
  const { header } = found.plan.journal;
  await checkResumable(found.plan, transport, { now: Date.now() });
  let journal: JournalWriter | null = null;
  try {
    journal = await reopenJournal(found);
    await journal.append([{ kind: "resumed", at: Date.now() }]);
    const run = {
      name: header.name,
      runId: header.run_id,
      broker: redactUrl(transport.url),
      startedAt: Date.parse(header.started_at),
      expectedWorkers: header.expected_workers,
      workers: header.workers,
    };
    await announceRun({
      ...run,
      journal: found.path,
      taskCount: header.jobs.length,
      taskNames: [...new Set(header.jobs.map((job) => job.task))],
      missing: found.plan.missing.length,
    }, { ...follow, replyQueue: header.reply_queue });
    const events = collectMissing({
      transport,
      replyQueue: header.reply_queue,
      tasks: found.plan.missing,
      journal,
      onJournalError: journalErrorLogger(follow.logger, journal),
      signal: options.signal,
    });
    const { run: ended } = await followRun({
      ...follow,
      run,
      history: found.plan.history,
      events,
      journal,
      replyQueue: { transport, name: header.reply_queue },
    });
    return ended;
  } finally {
    await journal?.close();
  }
}
