import assert from "node:assert/strict";
import { AsyncQueue } from "./async_queue.ts";

Deno.test("AsyncQueue yields pushed items in order, then ends after end()", async () => {
  const queue = new AsyncQueue<number>();
  const waiting = queue.next();
  queue.push(1);
  queue.push(2);
  queue.end();
  assert.equal(queue.push(3), false);
  assert.deepEqual(await waiting, { value: 1, done: false });
  const rest: number[] = [];
  for await (const item of queue) rest.push(item);
  assert.deepEqual(rest, [2]);
});

Deno.test("AsyncQueue throws the fail() error after the buffered items", async () => {
  const queue = new AsyncQueue<string>();
  queue.push("a");
  queue.fail(new Error("boom"));
  assert.deepEqual(await queue.next(), { value: "a", done: false });
  await assert.rejects(queue.next(), /boom/);
  assert.deepEqual(await queue.next(), { value: undefined, done: true });
});

Deno.test("AsyncQueue calls onReturn once when the reader breaks out", async () => {
  let returns = 0;
  const queue = new AsyncQueue<number>(() => returns++);
  queue.push(1);
  queue.push(2);
  for await (const _ of queue) break;
  await queue.return();
  assert.equal(returns, 1);
  assert.equal(queue.ended, true);
  assert.deepEqual(queue.takeBuffered(), [2]);
});
