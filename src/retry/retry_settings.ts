/**
 * The rules of retry settings, in one place for every way they are written:
 * a plugin's `retry` (camelCase, ms), a config's `tasks.<key>.retry`
 * (snake_case, durations) and the merged settings a retry policy is built
 * from. Each caller names the fields as its users write them.
 * @module
 */

/** Retry policy settings: a wait of `backoffMs * factor^retries`, capped, maybe jittered. */
export interface RetrySettings {
  /** Retries after the first attempt. @default 3 */
  maxRetries: number;
  /** @default 500 */
  backoffMs: number;
  /** @default 2 */
  factor: number;
  /** @default 30_000 */
  maxBackoffMs: number;
  /** Full jitter: wait a random time up to the computed one. @default true */
  jitter: boolean;
}

/** Retry settings used where neither plugin nor config says otherwise. */
export const DEFAULT_RETRY_SETTINGS: Readonly<RetrySettings> = Object.freeze({
  maxRetries: 3,
  backoffMs: 500,
  factor: 2,
  maxBackoffMs: 30_000,
  jitter: true,
});

/** A field of the retry settings. */
export type RetryField = keyof RetrySettings;

/** One broken rule. */
export interface RetryProblem {
  field: RetryField;
  /** Reads after the field's name, e.g. `must be >= 1`. */
  message: string;
}

/**
 * What is wrong with (possibly partial) retry settings; empty when nothing.
 * `name` gives a field's name as the caller's users write it. `together`
 * (default true) also checks `maxBackoffMs >= backoffMs`, for settings
 * written in one place; merged settings may take each from another source,
 * and then the cap simply wins.
 */
export function retrySettingsProblems(
  settings: Partial<Record<RetryField, unknown>>,
  options: { name?: (field: RetryField) => string; together?: boolean } = {},
): RetryProblem[] {
  const name = options.name ?? ((field: RetryField) => field);
  const problems: RetryProblem[] = [];
  const { maxRetries, backoffMs, factor, maxBackoffMs, jitter } = settings;
  const check = (field: RetryField, ok: boolean, message: string) => {
    if (!ok) problems.push({ field, message });
  };
  if (maxRetries !== undefined) {
    if (typeof maxRetries !== "number" || !Number.isInteger(maxRetries)) {
      check("maxRetries", false, "must be a whole number");
    } else check("maxRetries", maxRetries >= 0, "must be >= 0");
  }
  if (backoffMs !== undefined) {
    check(
      "backoffMs",
      isNumber(backoffMs) && Number.isFinite(backoffMs) && backoffMs >= 0,
      "must be >= 0",
    );
  }
  if (factor !== undefined) {
    check("factor", isNumber(factor) && Number.isFinite(factor) && factor >= 1, "must be >= 1");
  }
  if (maxBackoffMs !== undefined) {
    const valid = isNumber(maxBackoffMs) && maxBackoffMs >= 0;
    check("maxBackoffMs", valid, "must be >= 0");
    if (options.together !== false && valid && isNumber(backoffMs) && maxBackoffMs < backoffMs) {
      check("maxBackoffMs", false, `must be >= ${name("backoffMs")} (${backoffMs}ms)`);
    }
  }
  if (jitter !== undefined) check("jitter", typeof jitter === "boolean", "must be true or false");
  return problems;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && !Number.isNaN(value);
}
