/**
 * Run ids: every dispatch gets one, printed at its start. It names the
 * run's reply queue (`dts.reply.<run id>`) and its journal
 * (`dispatch_<run id>.jsonl`), and `dts dispatch --resume` takes it.
 * @module
 */

/** `YYYYmmdd_HHMMSS-<6 hex>`, the time in UTC. */
const RUN_ID = /^\d{8}_\d{6}-[0-9a-f]{6}$/;

/** A new run id for a run started at `now`, e.g. `20261128_100000-4f09a2`. */
export function createRunId(
  now: Date,
  randomBytes: (n: number) => Uint8Array = randomBytesOf,
): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${
    pad(now.getUTCHours())
  }${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const hex = [...randomBytes(3)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${stamp}-${hex}`;
}

/** Whether `text` has the shape of a run id (so it is safe in a file or queue name). */
export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/** The reply queue of a run: durable, outlives a killed dispatcher for `--resume`. */
export function replyQueueName(runId: string): string {
  return `dts.reply.${runId}`;
}

/** How long a run's reply queue outlives the dispatcher: the resume window after the last task's deadline. */
export const RESUME_WINDOW_MS = 3_600_000;

/**
 * The reply queue's `x-expires`: the broker deletes it once it has had no
 * consumer for this long, `timeoutMs` plus an hour. A dispatcher killed
 * outright so leaves its results for `--resume` until then.
 */
export function replyQueueExpiresMs(timeoutMs: number): number {
  return timeoutMs + RESUME_WINDOW_MS;
}

function randomBytesOf(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
