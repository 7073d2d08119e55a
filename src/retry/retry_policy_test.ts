import assert from "node:assert/strict";
import { exponentialBackoff } from "./retry_policy.ts";
import type { RetrySettings } from "../plugin/task_plugin.ts";

const base: RetrySettings = {
  maxRetries: 5,
  backoffMs: 500,
  factor: 2,
  maxBackoffMs: 30_000,
  jitter: false,
};

Deno.test("exponentialBackoff() grows the delay by factor per retry", () => {
  const policy = exponentialBackoff(base);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((r) => policy.nextDelayMs(r)),
    [500, 1000, 2000, 4000, 8000],
  );
});

Deno.test("exponentialBackoff() caps the delay at maxBackoffMs", () => {
  const policy = exponentialBackoff({ ...base, maxRetries: 20, maxBackoffMs: 3000 });
  assert.equal(policy.nextDelayMs(2), 2000);
  assert.equal(policy.nextDelayMs(3), 3000);
  assert.equal(policy.nextDelayMs(15), 3000);
});

Deno.test("exponentialBackoff() gives up once retries reach maxRetries", () => {
  const policy = exponentialBackoff({ ...base, maxRetries: 2 });
  assert.equal(policy.nextDelayMs(1), 1000);
  assert.equal(policy.nextDelayMs(2), null);
  assert.equal(policy.nextDelayMs(7), null);
});

Deno.test("exponentialBackoff() never retries with maxRetries 0", () => {
  assert.equal(exponentialBackoff({ ...base, maxRetries: 0 }).nextDelayMs(0), null);
});

Deno.test("exponentialBackoff() gives up at once on an error with retryable false", () => {
  const policy = exponentialBackoff(base);
  const error = Object.assign(new Error("bad input"), { retryable: false });
  assert.equal(policy.nextDelayMs(0, error), null);
  assert.equal(policy.nextDelayMs(0, { retryable: false }), null);
});

Deno.test("exponentialBackoff() retries errors without retryable false", () => {
  const policy = exponentialBackoff(base);
  assert.equal(policy.nextDelayMs(0, new Error("flaky")), 500);
  assert.equal(policy.nextDelayMs(0, { retryable: true }), 500);
  assert.equal(policy.nextDelayMs(0, { retryable: "false" }), 500);
  assert.equal(policy.nextDelayMs(0, "a string"), 500);
  assert.equal(policy.nextDelayMs(0, null), 500);
});

Deno.test("exponentialBackoff() applies full jitter with the injected random", () => {
  const policy = exponentialBackoff({ ...base, jitter: true }, () => 0.25);
  assert.equal(policy.nextDelayMs(0), 125);
  assert.equal(policy.nextDelayMs(2), 500);
  const zero = exponentialBackoff({ ...base, jitter: true }, () => 0);
  assert.equal(zero.nextDelayMs(3), 0);
});

Deno.test("exponentialBackoff() rounds jittered delays to whole milliseconds", () => {
  const policy = exponentialBackoff({ ...base, backoffMs: 3, jitter: true }, () => 0.5);
  assert.equal(policy.nextDelayMs(0), 2);
});

Deno.test("exponentialBackoff() jitter stays within the capped delay", () => {
  const policy = exponentialBackoff(
    { ...base, maxRetries: 30, maxBackoffMs: 1000, jitter: true },
    () => 0.999,
  );
  assert.equal(policy.nextDelayMs(20), 999);
});

Deno.test("exponentialBackoff() rejects out-of-range settings with RangeError", () => {
  const bad: Partial<RetrySettings>[] = [
    { backoffMs: -1 },
    { backoffMs: Number.NaN },
    { factor: 0.5 },
    { factor: Number.POSITIVE_INFINITY },
    { maxRetries: 1.5 },
    { maxRetries: -1 },
    { maxBackoffMs: -5 },
  ];
  for (const patch of bad) {
    assert.throws(
      () => exponentialBackoff({ ...base, ...patch }),
      RangeError,
      JSON.stringify(patch),
    );
  }
});

Deno.test("exponentialBackoff() error messages name the setting", () => {
  assert.throws(
    () => exponentialBackoff({ ...base, factor: 0.5 }),
    { name: "RangeError", message: /^Cannot create retry policy: factor must be/ },
  );
});

Deno.test("RetryPolicy.nextDelayMs() rejects a negative retries count", () => {
  assert.throws(() => exponentialBackoff(base).nextDelayMs(-1), RangeError);
});

Deno.test("exponentialBackoff() uses maxBackoffMs even when it is below backoffMs", () => {
  const policy = exponentialBackoff({ ...base, backoffMs: 60_000, maxBackoffMs: 30_000 });
  assert.equal(policy.nextDelayMs(0), 30_000);
});
