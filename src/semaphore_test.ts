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
  assert.equal(semaphore.waiting, 2);
  semaphore.release();
  await third;
  assert.deepEqual(order, [3]);
  semaphore.release();
  await fourth;
  assert.deepEqual(order, [3, 4]);
  assert.equal(semaphore.taken, 2);
});

Deno.test("Semaphore refuses a negative or fractional size, and a release nobody holds", () => {
  assert.throws(() => new Semaphore(-1), RangeError);
  assert.throws(() => new Semaphore(1.5), RangeError);
  assert.throws(() => new Semaphore(1).resize(-1), RangeError);
  assert.throws(() => new Semaphore(1).release(), RangeError);
});

Deno.test("Semaphore.resize() up lets waiters in at once", async () => {
  const semaphore = new Semaphore(0);
  let entered = 0;
  const waiters = [1, 2, 3].map(() => semaphore.acquire().then(() => entered++));
  await Promise.resolve();
  assert.equal(entered, 0);
  semaphore.resize(2);
  await Promise.resolve();
  assert.equal(entered, 2);
  assert.deepEqual([semaphore.taken, semaphore.waiting], [2, 1]);
  semaphore.resize(3);
  await Promise.all(waiters);
  assert.equal(entered, 3);
});

Deno.test("Semaphore.resize() down keeps every holder and lets nobody in until enough released", async () => {
  const semaphore = new Semaphore(3);
  for (let i = 0; i < 3; i++) await semaphore.acquire();
  semaphore.resize(1);
  assert.deepEqual([semaphore.size, semaphore.taken], [1, 3]);
  let entered = false;
  const next = semaphore.acquire().then(() => (entered = true));
  semaphore.release();
  semaphore.release();
  await Promise.resolve();
  assert.equal(entered, false, "2 released of 3: one still holds the only slot");
  semaphore.release();
  await next;
  assert.deepEqual([semaphore.taken, semaphore.waiting], [1, 0]);
});

Deno.test("Semaphore.acquire() with an aborted signal rejects and takes no slot", async () => {
  const semaphore = new Semaphore(1);
  await semaphore.acquire();
  const stop = new AbortController();
  const waiting = semaphore.acquire(stop.signal);
  stop.abort(new Error("stopping"));
  await assert.rejects(waiting, /stopping/);
  assert.equal(semaphore.waiting, 0);
  semaphore.release();
  assert.equal(semaphore.taken, 0, "the aborted waiter was not handed the slot");
  await assert.rejects(semaphore.acquire(stop.signal), /stopping/);
});
