/**
 * How long to wait before the next attempt of a failed task. Pure: the
 * transport holds the wait (SPEC "Queues and delivery"), this only decides it.
 * @module
 */
import { type RetrySettings, retrySettingsProblems } from "./retry_settings.ts";
import { backoffDelayMs } from "./backoff.ts";

/** Decides whether and when a failed task runs again. */
export interface RetryPolicy {
  /**
   * Delay before the next attempt, given how many retries came before this
   * failure; `null` means give up (dead letter).
   */
  nextDelayMs(retries: number, error?: unknown): number | null;
}

/**
 * Exponential backoff: `min(backoffMs * factor^retries, maxBackoffMs)`, with
 * full jitter (a uniform wait up to that) when `jitter` is set.
 * Gives up once `retries >= maxRetries` or when the error has `retryable === false`.
 * @throws {RangeError} when a setting is out of range.
 */
export function exponentialBackoff(
  settings: RetrySettings,
  random: () => number = Math.random,
): RetryPolicy {
  validateSettings(settings);
  const { maxRetries, backoffMs, factor, maxBackoffMs, jitter } = settings;
  return {
    nextDelayMs(retries: number, error?: unknown): number | null {
      if (!Number.isInteger(retries) || retries < 0) {
        throw new RangeError(
          `Cannot compute retry delay: retries must be an integer >= 0, got ${retries}`,
        );
      }
      if (retries >= maxRetries || isNonRetryable(error)) return null;
      return backoffDelayMs(retries, {
        baseMs: backoffMs,
        factor,
        maxMs: maxBackoffMs,
        jitter: jitter ? "full" : "none",
      }, random);
    },
  };
}

// A plugin cannot import dts classes, so "do not retry" is a plain property.
function isNonRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { retryable?: unknown }).retryable === false;
}

function validateSettings(settings: RetrySettings): void {
  const [problem] = retrySettingsProblems(settings, { together: false });
  if (problem !== undefined) {
    throw new RangeError(
      `Cannot create retry policy: ${problem.field} ${problem.message}, got ${
        String(settings[problem.field])
      }`,
    );
  }
}
