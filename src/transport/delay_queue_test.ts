import assert from "node:assert/strict";
import { delayBucketMs, delayQueueName } from "./delay_queue.ts";

Deno.test("delayBucketMs() keeps two significant digits", () => {
  assert.equal(delayBucketMs(1234), 1200);
  assert.equal(delayBucketMs(1250), 1300);
  assert.equal(delayBucketMs(87), 87);
  assert.equal(delayBucketMs(250), 250);
  assert.equal(delayBucketMs(30_499), 30_000);
  assert.equal(delayBucketMs(995), 1000);
});

Deno.test("delayBucketMs() never goes below 1 ms and refuses non-finite delays", () => {
  assert.equal(delayBucketMs(0.2), 1);
  assert.equal(delayBucketMs(1.4), 1);
  assert.throws(() => delayBucketMs(Infinity), RangeError);
  assert.throws(() => delayBucketMs(NaN), RangeError);
});

Deno.test("delayQueueName() names the wait queue by target queue and bucket", () => {
  assert.equal(delayQueueName("queue_a", 1200), "dts.delay.queue_a.1200");
});
