/**
 * The end of a dispatch, shared by a run and its `--resume`: fold the
 * events into outcomes while a reporter shows them, then save the results
 * document, mark the journal, and delete the reply queue once nothing is
 * left to collect from it.
 * @module
 */
import { DtsError, fsReason } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { DispatchPlan, DispatchRun, Reporter, TaskEvent } from "../report/task_event.ts";
import { closeReplyQueue } from "../client/reply_queue.ts";
import type { Transport } from "../transport/transport.ts";
import { OutcomeCollector } from "./collect_outcomes.ts";
import type { JournalWriter } from "./journal_writer.ts";
import { toResultsDocument } from "../report/results_document.ts";
import { saveResults } from "./results_file.ts";

/** Options of `followRun()`. */
export interface FollowRunOptions {
  /** What is known of the run before its end. */
  run: Omit<DispatchRun, "finishedAt" | "tasks" | "interrupted">;
  /** Events from earlier (a resume's journal), folded in before the live ones. */
  history?: readonly TaskEvent[];
  events: AsyncIterable<TaskEvent>;
  reporter: Reporter;
  logger: Logger;
  /** Aborted: the run was interrupted. */
  signal: AbortSignal;
  /** Where to save the results document; null with `--no-save`. */
  resultsDir: string | null;
  /** Closed here, after its last line ("finished", or "interrupted"). */
  journal: JournalWriter | null;
  /** A reply queue the dispatch left to the caller: deleted once the run is complete and saved. */
  replyQueue: { transport: Transport; name: string } | null;
  /** json: stdout holds only the document, so notes go to the log; pretty: to `say`. */
  output: "pretty" | "json";
  /** Writes a note to stdout (pretty output). */
  say: (text: string) => void;
  /** The command that resumes this run, for the note after an interrupt or an error. */
  resumeCommand: string;
}

/** How a followed run ended. */
export interface FollowedRun {
  run: DispatchRun;
  /** The saved results document, if saved. */
  resultsFile: string | null;
}

/**
 * Show the start of a run: the reporter's header and, in json mode (stdout
 * holds only the document), a log line with the run id.
 */
export async function announceRun(
  plan: DispatchPlan,
  options: { reporter: Reporter; logger: Logger; output: "pretty" | "json"; replyQueue: string },
): Promise<void> {
  const { reporter, logger } = options;
  await callReporter(logger, () => reporter.begin(plan));
  if (options.output !== "json") return;
  logger.info(plan.missing === undefined ? "Dispatch started" : "Dispatch resumed", {
    run_id: plan.runId,
    reply_queue: options.replyQueue,
    journal: plan.journal,
    ...(plan.missing === undefined ? {} : { missing: plan.missing }),
  });
}

/** The exit code of a finished run (SPEC): 130 interrupted, 0 all succeeded, else 1. */
export function exitCodeOf(run: DispatchRun): number {
  if (run.interrupted) return 130;
  return run.tasks.every((task) => task.status === "SUCCESS") ? 0 : 1;
}

/** Follow `events` to the end; see the module notes. */
export async function followRun(options: FollowRunOptions): Promise<FollowedRun> {
  try {
    const ended = await follow(options);
    tell(options, ended);
    return ended;
  } catch (error) {
    if (options.journal !== null) {
      options.logger.warn("The dispatch stopped early; collect the rest later", {
        command: options.resumeCommand,
      });
    }
    throw error;
  } finally {
    await options.journal?.close();
  }
}

/** Say where the results went, and after an interrupt how to collect the rest. */
function tell(options: FollowRunOptions, { run, resultsFile }: FollowedRun): void {
  const { logger, output, say } = options;
  if (resultsFile !== null) {
    if (output === "json") logger.info("Results saved", { path: resultsFile });
    else say(`Results saved to ${resultsFile}\n`);
  }
  if (!run.interrupted || options.journal === null) return;
  if (output === "json") {
    logger.warn("Dispatch interrupted; collect the missing results later", {
      command: options.resumeCommand,
    });
  } else say(`Collect the missing results later with: ${options.resumeCommand}\n`);
}

async function follow(options: FollowRunOptions): Promise<FollowedRun> {
  const { reporter, logger, journal } = options;
  const collector = new OutcomeCollector();
  const take = async (event: TaskEvent) => {
    collector.add(event);
    await callReporter(logger, () => reporter.report(event));
  };
  for (const event of options.history ?? []) await take(event);
  for await (const event of options.events) await take(event);
  const run: DispatchRun = {
    ...options.run,
    finishedAt: Date.now(),
    tasks: collector.outcomes(),
    interrupted: options.signal.aborted,
  };
  await callReporter(logger, () => reporter.finish(run));
  const resultsDir = options.resultsDir;
  const resultsFile = resultsDir === null
    ? null
    : await saveResults(toResultsDocument(run), { dir: resultsDir, now: new Date(run.startedAt) })
      .catch((error) => {
        // The folder was fine at the start; it went away or filled up since.
        throw new DtsError(`Cannot save results in "${resultsDir}": ${fsReason(error)}`, {
          cause: error,
        });
      });
  await journal?.append([
    run.interrupted
      ? { kind: "interrupted", at: Date.now(), signal: String(options.signal.reason) }
      : { kind: "finished", at: Date.now(), results_file: resultsFile },
  ]).catch((error) => logger.warn("Cannot write the journal", { journal: journal.path, error }));
  // Interrupted: the queue stays (it expires by itself) for --resume to collect from.
  if (!run.interrupted && options.replyQueue !== null) {
    await closeReplyQueue(options.replyQueue.transport, options.replyQueue.name);
  }
  return { run, resultsFile };
}

/** A reporter that throws is logged and ignored: reporting never loses a result. */
export async function callReporter(logger: Logger, work: () => unknown): Promise<void> {
  try {
    await work();
  } catch (error) {
    logger.warn("Reporter failed", { error });
  }
}

/** Logs the first journal write that fails: what it lacks stays in the reply queue. */
export function journalErrorLogger(
  logger: Logger,
  journal: JournalWriter | null,
): (error: unknown) => void {
  return (error) =>
    logger.error(
      "Cannot write the journal; results not in it stay unacknowledged in the reply queue for --resume",
      { journal: journal?.path, error },
    );
}
