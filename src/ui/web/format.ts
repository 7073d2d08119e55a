/**
 * How the page writes times, durations and counts.
 * @module
 */

/** `12:03:04` today, else `2026-12-03 12:03`. */
export function clockTime(ms: number | null): string {
  if (ms === null) return "–";
  const d = new Date(ms);
  const sameDay = new Date().toDateString() === d.toDateString();
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** `850 ms`, `2.4 s`, `3 m 10 s`. */
export function duration(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}

/** `5 s ago`. */
export function ago(ms: number | null, now: number): string {
  if (ms === null) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** A count or a dash. */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "–" : String(n);
}
