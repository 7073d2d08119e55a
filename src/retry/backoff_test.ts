import assert from "node:assert/strict";
import { backoffDelayMs } from "./backoff.ts";

Deno.test("backoffDelayMs() grows by the factor and stops at the cap", () => {
  const backoff = { baseMs: 100, maxMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 4, 50, 10_000].map((n) => backoffDelayMs(n, backoff)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
    1000,
  ]);
  assert.equal(backoffDelayMs(2, { baseMs: 500, factor: 3, maxMs: 60_000 }), 4500);
  assert.equal(
    backoffDelayMs(5, { baseMs: 200, factor: 1, maxMs: 60_000 }),
    200,
    "factor 1: constant",
  );
});

Deno.test("backoffDelayMs() jitters fully or by half", () => {
  const backoff = { baseMs: 1000, maxMs: 1000 };
  assert.equal(backoffDelayMs(0, { ...backoff, jitter: "full" }, () => 0), 0);
  assert.equal(backoffDelayMs(0, { ...backoff, jitter: "full" }, () => 0.25), 250);
  assert.equal(backoffDelayMs(0, { ...backoff, jitter: "half" }, () => 0), 500);
  assert.equal(backoffDelayMs(0, { ...backoff, jitter: "half" }, () => 1), 1000);
});

Deno.test("backoffDelayMs() refuses an attempt that is not a whole number >= 0", () => {
  assert.throws(() => backoffDelayMs(-1, { baseMs: 1, maxMs: 1 }), RangeError);
  assert.throws(() => backoffDelayMs(1.5, { baseMs: 1, maxMs: 1 }), RangeError);
});
