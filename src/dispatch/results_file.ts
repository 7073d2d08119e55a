/**
 * Save a dispatch's results document under the results directory
 * (SPEC "Results": `dispatch_results_<YYYYmmdd_HHMMSS>.json`).
 * @module
 */
import type { ResultsDocument } from "../report/results_document.ts";

/** Options of `saveResults`. */
export interface SaveResultsOptions {
  /** Directory to write into; created when missing. */
  dir: string;
  /** Names the file (UTC). */
  now: Date;
  /** @default Deno.writeTextFile */
  writeTextFile?: typeof Deno.writeTextFile;
  /** @default Deno.mkdir */
  mkdir?: typeof Deno.mkdir;
}

/** How many `_2`, `_3`… suffixes to try before giving up. */
const MAX_SUFFIX = 1000;

/**
 * Write `document` as pretty-printed JSON to `<dir>/dispatch_results_<YYYYmmdd_HHMMSS>.json`,
 * never overwriting: an existing name gets `_2`, `_3`… appended. Returns the path written.
 * @throws {Error} when the directory or file cannot be written.
 */
export async function saveResults(
  document: ResultsDocument,
  options: SaveResultsOptions,
): Promise<string> {
  const writeTextFile = options.writeTextFile ?? Deno.writeTextFile;
  const mkdir = options.mkdir ?? Deno.mkdir;
  const text = JSON.stringify(document, null, 2) + "\n";
  await mkdir(options.dir, { recursive: true });
  const stem = `dispatch_results_${timestamp(options.now)}`;
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const path = joinPath(options.dir, `${stem}${n === 1 ? "" : `_${n}`}.json`);
    try {
      // createNew makes "does it exist?" and "write it" one atomic step.
      await writeTextFile(path, text, { createNew: true });
      return path;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      throw error;
    }
  }
  throw new Error(
    `Cannot save results in "${options.dir}": ${MAX_SUFFIX} files named ${stem}* already exist`,
  );
}

/** `YYYYmmdd_HHMMSS` in UTC. */
function timestamp(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${
    pad(now.getUTCHours())
  }${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
}

function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir.replace(/[\\/]+$/, "")}/${name}`;
}
