/**
 * How long to wait before replacing a worker process that keeps crashing.
 * @module
 */

import { backoffDelayMs } from "../retry/backoff.ts";

/** Restart backoff settings. */
export interface CrashBackoff {
  /** Wait after the first crash. @default 1000 */
  initialMs: number;
  /** Longest wait. @default 30000 */
  maxMs: number;
}

/** 1 s doubling to 30 s. */
export const DEFAULT_CRASH_BACKOFF: CrashBackoff = { initialMs: 1_000, maxMs: 30_000 };

/**
 * Wait before the restart that follows the `crashes`-th crash in a row:
 * `initialMs * 2^(crashes - 1)`, capped at `maxMs`; 0 when there was no crash.
 */
export function restartDelayMs(
  crashes: number,
  backoff: CrashBackoff = DEFAULT_CRASH_BACKOFF,
): number {
  if (crashes <= 0) return 0;
  return backoffDelayMs(crashes - 1, { baseMs: backoff.initialMs, maxMs: backoff.maxMs });
}
