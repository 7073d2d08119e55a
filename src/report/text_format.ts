/**
 * Small text helpers of the pretty output: values, errors, times, cut to width.
 * @module
 */

/** `Type: message` of an error-like value. */
export function showError(error: { type?: unknown; message?: unknown }): string {
  return `${String(error.type ?? "Error")}: ${String(error.message ?? "")}`;
}

/** A value as short JSON; values JSON cannot carry fall back to `String()`. */
export function showValue(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // circular or bigint: String() below
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** One line of at most `width` characters, cut with `…`. */
export function truncate(text: string, width: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, " ");
  if (oneLine.length <= width) return oneLine;
  return width <= 1 ? "…".slice(0, width) : `${oneLine.slice(0, width - 1)}…`;
}

/** The first 8 characters of an id and `…`. */
export function shortId(id: string): string {
  return id.length <= 8 ? id : `${id.slice(0, 8)}…`;
}

/** `106.0 ms`, or `12.34 s` from 10 s on; `-` for none. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  return ms < 10_000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Local time of day as `HH:MM:SS.mmm`. */
export function timeOfDay(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}
