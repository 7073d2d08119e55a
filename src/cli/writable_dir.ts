/**
 * Checks that a folder dts will write into (results, reports) is usable,
 * before any task is sent: a run must not end in "cannot save" after the
 * work is done.
 * @module
 */
import { dirname } from "node:path";
import { fsReason, UsageError } from "../errors.ts";

/**
 * Create `dir` (with its parents) when missing and prove it takes a new file.
 * @throws {UsageError} naming the folder and what is wrong with it
 */
export async function ensureWritableDir(dir: string, what: string): Promise<void> {
  const fail = (reason: string, cause: unknown): never => {
    throw new UsageError(`Cannot ${what} in "${dir}": ${reason}`, { cause });
  };
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    return fail(await whyNoFolder(dir, error), error);
  }
  const probe = `${dir.replace(/[\\/]+$/, "")}/.dts_write_check_${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(probe, "", { createNew: true });
  } catch (error) {
    return fail(fsReason(error), error);
  }
  await Deno.remove(probe).catch(() => {});
}

/** Why `mkdir -p dir` failed, naming the part of the path that is in the way. */
async function whyNoFolder(dir: string, error: unknown): Promise<string> {
  for (let path = dir;; path = dirname(path)) {
    try {
      const info = await Deno.stat(path);
      if (!info.isDirectory) return `"${path}" is a file, not a folder`;
      break;
    } catch {
      // Not there (or not readable): look further up.
    }
    if (dirname(path) === path) break;
  }
  return fsReason(error);
}
