/**
 * Priorities on RabbitMQ: a task whose queue has `max_priority` gets a
 * priority queue, and a worker with concurrency 1 (prefetch 1) runs the high
 * ones sent after 50 low ones before the low ones still waiting. A queue
 * that exists without the argument is a clear error, not a channel crash.
 */
import assert from "node:assert/strict";
import { QueueMismatchError } from "../../src/errors.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";

Deno.test("5 high-priority tasks sent after 50 low ones run before the low ones still waiting", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("priority");
  await using transport = await openTransport(broker.url);
  try {
    const order: string[] = [];
    const task = testTask("task_priority", q, async (ctx) => {
      order.push(String(ctx.kwargs.tag));
      await new Promise((resolve) => setTimeout(resolve, 5));
      return "ok";
    }, { maxPriority: 9 });
    await using _worker = await startWorker(transport, [task], { concurrency: 1 });
    const job = (tag: string, priority: number) => ({
      task: task.name,
      queue: q,
      args: [],
      kwargs: { tag },
      priority,
      maxPriority: 9,
    });
    const jobs = [
      ...Array.from({ length: 50 }, (_, i) => job(`low${i}`, 0)),
      ...Array.from({ length: 5 }, (_, i) => job(`high${i}`, 9)),
    ];
    const { outcomes } = await runDispatch(transport, jobs, { timeoutMs: 30_000 });
    assert.ok(outcomes.every((o) => o.status === "SUCCESS"));
    const highs = order.flatMap((tag, i) => tag.startsWith("high") ? [i] : []);
    const startedBefore = order.slice(0, highs[0]);
    console.log(
      `low tasks run before the first high one: ${startedBefore.length}; high ones at ${
        highs.join(", ")
      }`,
    );
    assert.equal(highs.length, 5);
    // Only what the worker had taken before the highs arrived: the running one and the prefetched one.
    assert.ok(
      highs[4] <= 6,
      `every high one within the first 7 runs: ${order.slice(0, 10).join(" ")}`,
    );
    assert.deepEqual(order.filter((tag) => tag.startsWith("high")), [
      "high0",
      "high1",
      "high2",
      "high3",
      "high4",
    ]);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("declaring max_priority on a queue that exists without it says how to migrate", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("priority_mismatch");
  await using transport = await openTransport(broker.url);
  try {
    await transport.assertTaskQueue(q);
    const error = await transport.assertTaskQueue(q, { maxPriority: 5 }).then(() => null, (e) => e);
    assert.ok(error instanceof QueueMismatchError, String(error));
    assert.match(error.message, /x-max-priority/);
    assert.match(error.message, /drain and delete the queue \(rabbitmqctl delete_queue /);
    assert.match(error.message, /tasks\.<key>\.max_priority/);
    // The transport goes on: the refused declaration closed only its own channel.
    await transport.publish(q, new TextEncoder().encode("still fine"), { persistent: true });
    assert.equal((await transport.inspectQueue(q))?.messages, 1);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
