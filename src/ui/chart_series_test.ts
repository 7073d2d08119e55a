import assert from "node:assert/strict";
import { bucketSeries, latencyHistogram, niceBucketMs, percentile } from "./chart_series.ts";

Deno.test("bucketSeries() counts per second and takes percentiles per bucket, zeros where quiet", () => {
  const s = bucketSeries(
    [
      { atMs: 1_000, ms: 10, ok: true },
      { atMs: 1_500, ms: 30, ok: false },
      { atMs: 3_200, ms: 5, ok: true },
    ],
    { fromMs: 0, toMs: 3_999, bucketMs: 1_000 },
  );
  assert.deepEqual(s.t, [0, 1, 2, 3]);
  assert.deepEqual(s.throughput, [0, 2, 0, 1]);
  assert.deepEqual(s.failed, [0, 1, 0, 0]);
  assert.deepEqual(s.p50, [null, 10, null, 5]);
  assert.deepEqual(s.max, [null, 30, null, 5]);
});

Deno.test("latencyHistogram() puts every sample in one bin", () => {
  const h = latencyHistogram([1, 2, 3, 100, 1000]);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 5);
  assert.equal(h.edges.length, h.counts.length + 1);
  assert.deepEqual(latencyHistogram([]), { edges: [], counts: [] });
});

Deno.test("percentile() is nearest-rank", () => {
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
  assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
  assert.equal(percentile([], 0.5), null);
});

Deno.test("niceBucketMs() gives about the asked number of points on a round step", () => {
  assert.equal(niceBucketMs(15 * 60_000), 10_000);
  assert.equal(niceBucketMs(5_000, 60), 100);
});

Deno.test("bucketSeries() takes sent-to-result percentiles only over the samples that have one", () => {
  const s = bucketSeries(
    [
      { atMs: 1_000, ms: 10, ok: true, sentToResultMs: 200 },
      { atMs: 1_200, ms: 20, ok: true, sentToResultMs: 400 },
      { atMs: 1_400, ms: 30, ok: false, sentToResultMs: null },
      { atMs: 2_100, ms: 5, ok: true },
    ],
    { fromMs: 0, toMs: 2_999, bucketMs: 1_000 },
  );
  assert.deepEqual(s.p50, [null, 20, 5], "runtime over every sample");
  assert.deepEqual(s.sentP50, [null, 200, null]);
  assert.deepEqual(s.sentP95, [null, 400, null]);
});
