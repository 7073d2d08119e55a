/**
 * How long the dashboard keeps history: the config's durations plus days
 * (`7d`), since history is counted in days.
 * @module
 */
import { parseDuration } from "../config/duration.ts";

/** Default retention: a week. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * Parse `7d`, `12h`, `30m` into ms.
 * @throws {RangeError} for anything else, or for 0 (history would be dropped as it comes)
 */
export function parseRetention(text: string): number {
  const days = /^(\d+(?:\.\d+)?)\s*d$/.exec(text.trim());
  const ms = days ? Math.round(Number(days[1]) * 24 * 3_600_000) : parseDuration(text);
  if (ms <= 0) throw new RangeError(`Cannot parse retention "${text}": it must be more than 0`);
  return ms;
}
