/**
 * The numbers behind the charts, shared by the dashboard and the load
 * report: finished tasks bucketed over time (throughput, latency
 * percentiles) and a latency histogram. Pure functions, no DOM.
 * @module
 */

/** One finished task as the charts see it. */
export interface FinishedSample {
  /** When it finished, epoch ms. */
  atMs: number;
  /** Its latency or runtime in ms; null when unknown. */
  ms: number | null;
  ok: boolean;
  /**
   * From its publish (the sender's `task-sent`) to its result, in ms, when
   * both are known: what the caller waited, queueing and retries included,
   * where `ms` on the dashboard is the worker's runtime alone.
   */
  sentToResultMs?: number | null;
}

/** Columns of a time chart: uPlot's shape (x in Unix seconds). */
export interface TimeSeries {
  bucketMs: number;
  t: number[];
  /** Finished per second in each bucket. */
  throughput: number[];
  failed: number[];
  p50: (number | null)[];
  p95: (number | null)[];
  max: (number | null)[];
  /** Percentiles of `sentToResultMs`, over the samples that have one (null: none did). */
  sentP50: (number | null)[];
  sentP95: (number | null)[];
}

/** A latency histogram: `counts[i]` samples fell in `[edges[i], edges[i+1])` ms. */
export interface Histogram {
  edges: number[];
  counts: number[];
}

/**
 * Bucket `samples` into `bucketMs` slots from `fromMs` to `toMs` (empty
 * slots are zeros, so a chart shows the quiet too).
 */
export function bucketSeries(
  samples: readonly FinishedSample[],
  options: { fromMs: number; toMs: number; bucketMs: number },
): TimeSeries {
  const { bucketMs } = options;
  const first = Math.floor(options.fromMs / bucketMs);
  const last = Math.max(first, Math.floor(options.toMs / bucketMs));
  const slots = Array.from(
    { length: last - first + 1 },
    () => ({ n: 0, failed: 0, ms: [] as number[], sentMs: [] as number[] }),
  );
  for (const sample of samples) {
    const i = Math.floor(sample.atMs / bucketMs) - first;
    if (i < 0 || i >= slots.length) continue;
    slots[i].n++;
    if (!sample.ok) slots[i].failed++;
    if (sample.ms !== null) slots[i].ms.push(sample.ms);
    const sent = sample.sentToResultMs;
    if (typeof sent === "number" && Number.isFinite(sent)) slots[i].sentMs.push(sent);
  }
  const series: TimeSeries = {
    bucketMs,
    t: [],
    throughput: [],
    failed: [],
    p50: [],
    p95: [],
    max: [],
    sentP50: [],
    sentP95: [],
  };
  slots.forEach((slot, i) => {
    const sorted = slot.ms.sort((a, b) => a - b);
    series.t.push(((first + i) * bucketMs) / 1000);
    series.throughput.push(round(slot.n / (bucketMs / 1000)));
    series.failed.push(slot.failed);
    series.p50.push(percentile(sorted, 0.5));
    series.p95.push(percentile(sorted, 0.95));
    series.max.push(sorted.length === 0 ? null : round(sorted[sorted.length - 1]));
    const sent = slot.sentMs.sort((a, b) => a - b);
    series.sentP50.push(percentile(sent, 0.5));
    series.sentP95.push(percentile(sent, 0.95));
  });
  return series;
}

/** A bucket size that gives a chart about `points` points over `spanMs`, on a round step. */
export function niceBucketMs(spanMs: number, points = 120): number {
  const steps = [
    100,
    250,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
  ];
  for (const step of steps) if (spanMs / step <= points) return step;
  return Math.ceil(spanMs / points / 3_600_000) * 3_600_000;
}

/** Latencies into about `bins` log-spaced bins (latency spans orders of magnitude). */
export function latencyHistogram(latenciesMs: readonly number[], bins = 30): Histogram {
  const values = latenciesMs.filter((v) => Number.isFinite(v) && v >= 0);
  if (values.length === 0) return { edges: [], counts: [] };
  const low = Math.max(0.01, Math.min(...values));
  const high = Math.max(low * 1.01, Math.max(...values));
  const ratio = Math.pow(high / low, 1 / bins);
  const edges = Array.from({ length: bins + 1 }, (_, i) => round(low * Math.pow(ratio, i)));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const i = v <= low ? 0 : Math.min(bins - 1, Math.floor(Math.log(v / low) / Math.log(ratio)));
    counts[i]++;
  }
  return { edges, counts };
}

/** The `q` percentile (0..1) of sorted values, nearest rank; null when empty. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return round(sorted[rank]);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
