/**
 * Opening a run's journal: a new one when a dispatch starts, an existing
 * one when `--resume` picks a run up again.
 * @module
 */
import { UsageError } from "../errors.ts";
import { readJournal } from "./journal_reader.ts";
import { type JournalHeader, journalPath } from "./journal_record.ts";
import { JournalWriter } from "./journal_writer.ts";
import { isRunId } from "./run_id.ts";
import { planResume, type ResumePlan } from "./resume_plan.ts";

/**
 * Start `<dir>/dispatch_<run id>.jsonl` with `header` on disk, before anything is sent.
 * @throws {UsageError} when it cannot be written (the results folder is not writable)
 */
export async function startJournal(dir: string, header: JournalHeader): Promise<JournalWriter> {
  const path = journalPath(dir, header.run_id);
  try {
    return await JournalWriter.create(path, header);
  } catch (error) {
    throw new UsageError(
      `Cannot write journal "${path}": ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
}

/**
 * Reopen a found run's journal to add to it.
 * @throws {UsageError} when it cannot be written
 */
export async function reopenJournal(found: FoundRun): Promise<JournalWriter> {
  try {
    return await JournalWriter.reopen(found.path, found.plan.journal.validBytes);
  } catch (error) {
    throw new UsageError(
      `Cannot write journal "${found.path}": ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
}

/** A run found again for `--resume`. */
export interface FoundRun {
  path: string;
  plan: ResumePlan;
}

/**
 * Find run `runId`'s journal in `dir` and plan its resume.
 * @throws {UsageError} for a malformed or unknown run id, a broken journal, or a finished run
 */
export async function findRun(
  runId: string,
  dir: string,
  options: { now: number; timeoutMs?: number },
): Promise<FoundRun> {
  if (!isRunId(runId)) {
    throw new UsageError(
      `Cannot resume run "${runId}": not a run id (YYYYmmdd_HHMMSS-xxxxxx, as printed when the dispatch started)`,
    );
  }
  const path = journalPath(dir, runId);
  const journal = await readJournal(path);
  if (journal === null) {
    throw new UsageError(
      `Cannot resume run "${runId}": no journal "${path}" (unknown run id; a run's journal is written beside its results, so give the --results-dir the run used; runs with --no-save keep none)`,
    );
  }
  if (journal.header.run_id !== runId) {
    throw new UsageError(
      `Cannot resume run "${runId}": journal "${path}" belongs to run "${journal.header.run_id}"`,
    );
  }
  const modifiedAt = (await Deno.stat(path)).mtime?.getTime() ?? null;
  return { path, plan: planResume(journal, { ...options, modifiedAt }) };
}

/** The command that resumes run `runId` whose results folder is `resultsDir`. */
export function resumeCommandLine(runId: string, resultsDir: string): string {
  const dirFlag = resultsDir === "results" ? "" : ` --results-dir ${shellWord(resultsDir)}`;
  return `dts dispatch --resume ${runId}${dirFlag}`;
}

/** `word` as one shell word. */
function shellWord(word: string): string {
  return /^[\w./:@%+,=-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
