import assert from "node:assert/strict";
import { summarizeLatencies } from "./latency_stats.ts";

Deno.test("summarizeLatencies() takes nearest-rank percentiles", () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  assert.deepEqual(summarizeLatencies(samples), { p50: 50, p95: 95, p99: 99, max: 100 });
});

Deno.test("summarizeLatencies() is all zero without samples", () => {
  assert.deepEqual(summarizeLatencies([]), { p50: 0, p95: 0, p99: 0, max: 0 });
});

Deno.test("summarizeLatencies() handles one sample", () => {
  assert.deepEqual(summarizeLatencies([2.345]), { p50: 2.3, p95: 2.3, p99: 2.3, max: 2.3 });
});
