/**
 * Retries on a real RabbitMQ: the backoff is held by the broker in a delay
 * queue, timeouts abort `ctx.signal` and follow the retry policy, and a task
 * that fails for good lands in `<queue>.dead` with why.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { TaskTimeoutError } from "../../src/attempt/attempt_runner.ts";
import type { TaskEvent } from "../../src/report/task_event.ts";
import {
  deleteQueues,
  messagesInDelayLadder,
  testBroker,
  testNamespace,
} from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { drainQueue } from "../helpers/test_kit.ts";

Deno.test("a failing task is retried after 200, 400, 800 ms held in the dts.delay ladder, then succeeds with retries 3", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("retry_timing");
  await using transport = await openTransport(broker.url);
  try {
    const attempts: number[] = [];
    const task = testTask("task_retry_timing", q, (ctx) => {
      attempts.push(performance.now());
      if (ctx.retries < 3) throw new Error(`attempt ${ctx.retries + 1} fails`);
      return "finally";
    }, {
      retry: { maxRetries: 3, backoffMs: 200, factor: 2, maxBackoffMs: 10_000, jitter: false },
    });
    await using worker = await startWorker(transport, [task]);
    const held: { delay: number; task: number; inFlight: number }[] = [];
    const checks: Promise<void>[] = [];
    const { events, outcomes } = await runDispatch(
      transport,
      [{ task: task.name, queue: q, args: [], kwargs: {} }],
      {
        onEvent: (e: TaskEvent) => {
          // The 800 ms wait is long enough to look at the queues during it.
          if (e.type === "RETRY" && e.retries === 3) {
            checks.push((async () => {
              // The RETRY note is published after the ack, so the worker may
              // still be finishing that attempt's bookkeeping: give it a moment.
              for (let i = 0; i < 30 && worker.inFlight > 0; i++) {
                await new Promise((resolve) => setTimeout(resolve, 10));
              }
              const [delay, main] = await Promise.all([
                messagesInDelayLadder(transport),
                transport.inspectQueue(q),
              ]);
              held.push({
                delay: Math.min(delay, 1),
                task: main?.messages ?? -1,
                inFlight: worker.inFlight,
              });
            })());
          }
        },
      },
    );
    await Promise.all(checks);

    assert.deepEqual(
      held,
      [{ delay: 1, task: 0, inFlight: 0 }],
      "the wait is in the broker's delay ladder",
    );
    const retries = events.filter((e) => e.type === "RETRY");
    assert.deepEqual(retries.map((e) => e.type === "RETRY" && e.retries), [1, 2, 3]);
    assert.deepEqual(retries.map((e) => e.type === "RETRY" && e.delayMs), [200, 400, 800]);
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0].status, "SUCCESS");
    assert.equal(outcomes[0].retries, 3);
    assert.equal(attempts.length, 4);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    [200, 400, 800].forEach((min, i) => {
      assert.ok(gaps[i] >= min, `gap ${i + 1} was ${gaps[i].toFixed(0)} ms, under ${min}`);
      assert.ok(gaps[i] < min + 5000, `gap ${i + 1} was ${gaps[i].toFixed(0)} ms`);
    });
    for (const queue of [q, deadLetterQueueName(q)]) {
      assert.equal((await transport.inspectQueue(queue))?.messages, 0, queue);
    }
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a task past its timeoutMs sees ctx.signal abort, fails, is retried, then dead-lettered", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("timeout");
  await using transport = await openTransport(broker.url);
  try {
    const aborts: { afterMs: number; reason: unknown }[] = [];
    const task = testTask("task_timeout", q, (ctx) => {
      const started = performance.now();
      return new Promise((_, reject) => {
        ctx.signal.addEventListener("abort", () => {
          aborts.push({ afterMs: performance.now() - started, reason: ctx.signal.reason });
          reject(ctx.signal.reason);
        }, { once: true });
      });
    }, {
      timeoutMs: 150,
      retry: { maxRetries: 1, backoffMs: 50, factor: 2, maxBackoffMs: 1000, jitter: false },
    });
    await using _worker = await startWorker(transport, [task]);
    const { events, outcomes } = await runDispatch(transport, [
      { task: task.name, queue: q, args: [], kwargs: {} },
    ]);

    assert.equal(aborts.length, 2, "both attempts were aborted");
    for (const abort of aborts) {
      assert.ok(abort.reason instanceof TaskTimeoutError);
      assert.ok(abort.afterMs >= 145, `aborted after ${abort.afterMs} ms`);
    }
    const retry = events.find((e) => e.type === "RETRY");
    assert.ok(retry?.type === "RETRY");
    assert.equal(retry.error?.type, "TaskTimeoutError");
    assert.equal(outcomes[0].status, "FAILURE");
    assert.equal(outcomes[0].retries, 1);
    assert.equal(outcomes[0].error?.type, "TaskTimeoutError");
    assert.match(outcomes[0].error?.message ?? "", /within 150 ms/);
    const dead = await drainQueue(transport, deadLetterQueueName(q));
    assert.equal(dead.length, 1);
    assert.equal(dead[0].props.headers["x-dts-error-type"], "TaskTimeoutError");
    assert.equal(dead[0].props.headers["x-dts-retries"], 1);
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("after the last retry and for a non-retryable error the task is in <queue>.dead with every reason header", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("dead");
  await using transport = await openTransport(broker.url);
  try {
    const always = testTask("task_always_fails", q, () => {
      throw new RangeError("always broken");
    }, { retry: { maxRetries: 2, backoffMs: 30, factor: 2, maxBackoffMs: 1000, jitter: false } });
    const never = testTask("task_never_retry", q, () => {
      throw Object.assign(new TypeError("bad input"), { retryable: false });
    });
    await using _worker = await startWorker(transport, [always, never], { concurrency: 2 });
    const before = Date.now();
    const { outcomes } = await runDispatch(transport, [
      { task: always.name, queue: q, args: [], kwargs: {} },
      { task: never.name, queue: q, args: [], kwargs: {} },
    ]);

    const byTask = new Map(outcomes.map((o) => [o.task, o]));
    assert.equal(byTask.get(always.name)?.status, "FAILURE");
    assert.equal(byTask.get(always.name)?.retries, 2);
    assert.deepEqual(
      [byTask.get(always.name)?.error?.type, byTask.get(always.name)?.error?.message],
      ["RangeError", "always broken"],
    );
    assert.equal(byTask.get(never.name)?.status, "FAILURE");
    assert.equal(byTask.get(never.name)?.retries, 0);
    assert.equal(byTask.get(never.name)?.error?.type, "TypeError");

    const dead = new Map(
      (await drainQueue(transport, deadLetterQueueName(q))).map((d) => [d.props.headers.task, d]),
    );
    assert.equal(dead.size, 2);
    const a = dead.get(always.name)!.props.headers;
    assert.equal(a["x-dts-reason"], "RangeError: always broken (gave up after 2 retries)");
    assert.equal(a["x-dts-error-type"], "RangeError");
    assert.equal(a["x-dts-error-message"], "always broken");
    assert.equal(a["x-dts-retries"], 2);
    assert.equal(a["x-dts-original-queue"], q);
    const deadAt = Date.parse(String(a["x-dts-dead-at"]));
    assert.ok(deadAt >= before - 1000 && deadAt <= Date.now() + 1000);
    const n = dead.get(never.name)!.props.headers;
    assert.equal(n["x-dts-reason"], "TypeError: bad input (not retryable)");
    assert.equal(n["x-dts-retries"], 0);
    assert.equal(n["x-dts-original-queue"], q);
    assert.ok(typeof n["x-dts-dead-at"] === "string");
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
