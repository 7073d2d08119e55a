/**
 * How far a load test is: a bar with total, rate and ETA for a terminal, or
 * the same numbers as fields of a periodic log line.
 * @module
 */

/** What the load test was asked to do. */
export interface LoadTarget {
  /** Sends to make, when `--count` is given. */
  count: number | null;
  /** How long to send, when `--duration` is given. */
  durationMs: number | null;
}

/** The numbers of one progress report. */
export interface LoadProgressNumbers {
  sent: number;
  done: number;
  /** Results per second so far. */
  rate: number;
  /** 0 to 1; by count, by time, whichever is further. */
  fraction: number;
  /** Seconds until the end, when it can be told. */
  etaS: number | null;
}

const BAR_WIDTH = 24;

/** Progress of a load test `elapsedMs` after its start. */
export function loadProgress(
  counts: { sent: number; done: number },
  target: LoadTarget,
  elapsedMs: number,
): LoadProgressNumbers {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const rate = counts.done / seconds;
  const byCount = target.count === null ? 0 : counts.done / target.count;
  const byTime = target.durationMs === null ? 0 : elapsedMs / target.durationMs;
  const fraction = Math.min(1, Math.max(byCount, byTime));
  const etas: number[] = [];
  if (target.count !== null && rate > 0) etas.push((target.count - counts.done) / rate);
  if (target.durationMs !== null) etas.push((target.durationMs - elapsedMs) / 1000);
  const etaS = etas.length === 0 ? null : Math.max(0, Math.min(...etas));
  return { sent: counts.sent, done: counts.done, rate, fraction, etaS };
}

/** One terminal line: `[#####-----]  1200/5000 done  842/s  ETA 4.5s`, at most `width` wide. */
export function formatLoadBar(
  p: LoadProgressNumbers,
  target: LoadTarget,
  width: number | null = null,
): string {
  const filled = Math.round(p.fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  const done = target.count === null
    ? `sent ${p.sent}  done ${p.done}`
    : `${p.done}/${target.count} done`;
  const eta = p.etaS === null ? "ETA ?" : `ETA ${formatSeconds(p.etaS)}`;
  const line = `${bar}  ${done}  ${Math.round(p.rate)}/s  ${eta}`;
  return width === null || line.length < width ? line : line.slice(0, Math.max(0, width - 1));
}

/** The fields of a progress log line. */
export function loadProgressFields(
  p: LoadProgressNumbers,
  target: LoadTarget,
): Record<string, unknown> {
  return {
    sent: p.sent,
    done: p.done,
    total: target.count,
    percent: Math.round(p.fraction * 1000) / 10,
    rate_per_s: Math.round(p.rate * 10) / 10,
    eta_s: p.etaS === null ? null : Math.round(p.etaS * 10) / 10,
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
}
