import assert from "node:assert/strict";
import { median, percentile } from "./measure.ts";

Deno.test("median: the middle value, the lower middle for an even count", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("percentile: nearest rank", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([7], 99), 7);
});
