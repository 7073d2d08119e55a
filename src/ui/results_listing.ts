/**
 * The dispatch results files (`dispatch_results_*.json` in the results
 * directory, SPEC "Results") as the dashboard lists them: newest first, with
 * each run's summary. A file that is not a results document is listed with
 * its name only.
 * @module
 */

/** One results file. */
export interface ResultsFileEntry {
  file: string;
  bytes: number;
  modifiedMs: number | null;
  name: string | null;
  tasks: number | null;
  succeeded: number | null;
  failed: number | null;
  interrupted: boolean;
}

/** Which names in the results directory the dashboard lists and serves. */
export const RESULTS_FILE = /^dispatch_results_[\w-]+\.json$/;

/** List the results files of `dir` (none when it does not exist), newest first, at most `limit`. */
export async function listResultsFiles(dir: string, limit = 100): Promise<ResultsFileEntry[]> {
  const entries: ResultsFileEntry[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !RESULTS_FILE.test(entry.name)) continue;
      const path = `${dir}/${entry.name}`;
      const stat = await Deno.stat(path);
      entries.push({
        file: entry.name,
        bytes: stat.size,
        modifiedMs: stat.mtime?.getTime() ?? null,
        name: null,
        tasks: null,
        succeeded: null,
        failed: null,
        interrupted: false,
      });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  // The name holds the UTC time, so it sorts newest last.
  entries.sort((a, b) => b.file.localeCompare(a.file));
  const shown = entries.slice(0, limit);
  await Promise.all(shown.map(async (entry) => {
    try {
      const doc = JSON.parse(await Deno.readTextFile(`${dir}/${entry.file}`));
      entry.name = typeof doc.name === "string" ? doc.name : null;
      entry.tasks = Array.isArray(doc.tasks) ? doc.tasks.length : null;
      entry.succeeded = typeof doc.summary?.succeeded === "number" ? doc.summary.succeeded : null;
      entry.failed = typeof doc.summary?.failed === "number" ? doc.summary.failed : null;
      entry.interrupted = doc.interrupted === true;
    } catch { /* listed by name only */ }
  }));
  return shown;
}
