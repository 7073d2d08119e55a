import assert from "node:assert/strict";
import { Semaphore } from "./semaphore.ts";

Deno.test("Semaphore lets at most size holders in, waiters in order", async () => {
  const semaphore = new Semaphore(2);
  const order: number[] = [];
  await semaphore.acquire();
  await semaphore.acquire();
  const third = semaphore.acquire().then(() => order.push(3));
  const fourth = semaphore.acquire().then(() => order.push(4));
  await Promise.resolve();
  assert.deepEqual(order, []);
  semaphore.release();
  await third;
  assert.deepEqual(order, [3]);
  semaphore.release();
  await fourth;
  assert.deepEqual(order, [3, 4]);
});

Deno.test("Semaphore refuses a size below 1", () => {
  assert.throws(() => new Semaphore(0), RangeError);
});
