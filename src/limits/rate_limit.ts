/**
 * A fleet-wide rate limit as users write it (`20/s`, `100/m`, `500/h`, or a
 * bare number per second, as Celery's `rate_limit`) and the token bucket it
 * becomes.
 * @module
 */

/** A parsed rate limit. */
export interface RateLimit {
  /** As written, normalised: `20/s`. */
  readonly text: string;
  /** Tasks started per second, fleet-wide. */
  readonly perSecond: number;
  /**
   * How many tokens the bucket holds when nobody takes them: about 100 ms
   * worth, at least 1. An idle fleet may start this many at once; over any
   * span of T seconds at most `burst + perSecond * T` start.
   */
  readonly burst: number;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** The most a rate limit may allow: past this it limits nothing a broker can carry. */
export const MAX_RATE_PER_SECOND = 10_000;

/**
 * Parse `N/s`, `N/m`, `N/h`, or a number per second (`N` or `"N"`, as Celery).
 * @throws {RangeError} naming what is wrong, for anything else
 * @example parseRateLimit("100/m").perSecond // 1.666…
 */
export function parseRateLimit(value: string | number): RateLimit {
  const written = typeof value === "number" ? String(value) : value.trim();
  const match = /^(\d+(?:\.\d+)?)(?:\s*\/\s*([smh]))?$/.exec(written);
  if (match === null) {
    throw new RangeError(
      `Cannot read rate limit "${value}": write it as N/s, N/m or N/h (e.g. 20/s, 100/m)`,
    );
  }
  const count = Number(match[1]);
  const unit = match[2] ?? "s";
  const perSecond = count / UNIT_SECONDS[unit];
  if (!(count > 0) || perSecond > MAX_RATE_PER_SECOND) {
    throw new RangeError(
      `Cannot use rate limit "${value}": it must be above 0 and at most ${MAX_RATE_PER_SECOND}/s`,
    );
  }
  return {
    text: `${count}/${unit}`,
    perSecond,
    burst: Math.max(1, Math.floor(perSecond / 10)),
  };
}
