/**
 * Durations as written in config and on the command line: `500ms`, `30s`, `2m`, `1h`.
 * A unit is required: a bare `60` could mean 60 ms or 60 s, so it is refused
 * (only `0` needs none).
 * @module
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

const DURATION_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)$/;
const BARE_NUMBER = /^(\d+(?:\.\d+)?|\.\d+)$/;

/**
 * Parse a duration into whole milliseconds: `500ms`, `30s`, `1.5s`, `2m`, `1h`, or `0`.
 * Rounds to the nearest millisecond.
 * @throws {RangeError} when the text is not a non-negative number with a unit ms, s, m or h
 */
export function parseDuration(text: string | number): number {
  const hint = bareNumberHint(text);
  if (hint !== null) {
    throw new RangeError(`Cannot parse duration "${text}": it has no unit; ${hint}`);
  }
  const trimmed = String(text).trim();
  if (trimmed === "0") return 0;
  const match = DURATION_PATTERN.exec(trimmed);
  if (match === null) {
    throw new RangeError(
      `Cannot parse duration "${text}": expected a number with a unit ms, s, m or h, e.g. 500ms, 30s or 2m`,
    );
  }
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNIT_MS[unit]);
}

/**
 * For a bare non-zero number (`60`, `"60"`), what to write instead: `write 60s or 60000ms`;
 * null for anything else.
 */
export function bareNumberHint(value: string | number): string | null {
  const text = typeof value === "number" ? String(value) : value.trim();
  if (typeof value === "number" ? !Number.isFinite(value) || value < 0 : !BARE_NUMBER.test(text)) {
    return null;
  }
  const n = Number(text);
  if (n === 0) return null;
  return `write ${text}s or ${Number((n * 1000).toPrecision(12))}ms`;
}
