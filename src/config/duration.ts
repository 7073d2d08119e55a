/**
 * Durations as written in config and on the command line: `500ms`, `30s`, `2m`, `1h`.
 * @module
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

const DURATION_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/;

/**
 * Parse a duration into whole milliseconds: `500ms`, `30s`, `1.5s`, `2m`, `1h`;
 * a plain number (or a string of digits) is milliseconds. Rounds to the nearest millisecond.
 * @throws {RangeError} when the text is not a non-negative number with an optional unit
 */
export function parseDuration(text: string | number): number {
  if (typeof text === "number") {
    if (!Number.isFinite(text) || text < 0) {
      throw new RangeError(
        `Cannot parse duration ${text}: a number of milliseconds must be finite and >= 0`,
      );
    }
    return Math.round(text);
  }
  const match = DURATION_PATTERN.exec(text.trim());
  if (match === null) {
    throw new RangeError(
      `Cannot parse duration "${text}": expected a number with a unit ms, s, m or h, e.g. 500ms, 30s or 2m`,
    );
  }
  const [, amount, unit = "ms"] = match;
  return Math.round(Number(amount) * UNIT_MS[unit]);
}
