/**
 * The one exponential backoff of dts: task retries, reconnects, publishes
 * tried again, a consumer resumed, a crashed worker process replaced.
 * @module
 */

/** How waits grow. */
export interface Backoff {
  /** The first wait, in ms. */
  baseMs: number;
  /** Each wait is this many times the one before. @default 2 */
  factor?: number;
  /** No wait is longer. */
  maxMs: number;
  /**
   * `full`: a random wait up to the computed one (AWS's "full jitter": the
   * least load on a shared resource); `half`: between half of it and all of
   * it (waits never collapse to 0, for reconnects); `none`: exactly it.
   * @default "none"
   */
  jitter?: "full" | "half" | "none";
}

/**
 * The wait before try number `attempt` (0 for the first wait):
 * `baseMs * factor^attempt`, capped at `maxMs`, then jittered.
 * @throws {RangeError} when `attempt` is not a whole number >= 0
 * @example backoffDelayMs(3, { baseMs: 100, maxMs: 10_000 }) // 800
 */
export function backoffDelayMs(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(
      `Cannot compute a backoff: attempt must be a whole number >= 0, got ${attempt}`,
    );
  }
  // Past 64 doublings every wait is capped anyway; the power would only overflow.
  const delay = Math.min(
    backoff.baseMs * (backoff.factor ?? 2) ** Math.min(attempt, 64),
    backoff.maxMs,
  );
  switch (backoff.jitter ?? "none") {
    case "full":
      return Math.round(random() * delay);
    case "half":
      return Math.round(delay * (0.5 + random() / 2));
    default:
      return Math.round(delay);
  }
}
