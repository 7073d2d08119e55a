/**
 * A worker consumes only its own tasks' queues; another task's message waits
 * in its queue until a worker for it comes.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { Worker } from "../../src/worker/worker.ts";
import { runDispatch, startWorker, testLogger, testTask } from "../helpers/in_process.ts";
import { waitUntil } from "../helpers/test_kit.ts";

Deno.test("worker a never receives task_b; queue_b keeps its message until a b worker comes", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queueA = ns.queue("queue_a");
  const queueB = ns.queue("queue_b");
  await using transport = await openTransport(broker.url);
  try {
    const seenByA: string[] = [];
    const taskA = testTask("task_a", queueA, (ctx) => {
      seenByA.push(ctx.name);
      return "Hello from Task A";
    });
    await using _workerA = await startWorker(transport, [taskA], { name: "worker-a@test" });

    const jobs = [
      { task: "task_a", queue: queueA, args: [], kwargs: {} },
      { task: "task_b", queue: queueB, args: [], kwargs: {} },
    ];
    const events: string[] = [];
    const first = runDispatch(transport, jobs, {
      timeoutMs: 15_000,
      onEvent: (e) => events.push(`${e.task}:${e.type}`),
    });

    // Wait until task_a is done; task_b must still be sitting in its queue.
    await waitUntil("task_a succeeds", () => events.includes("task_a:SUCCESS"));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(seenByA, ["task_a"]);
    assert.deepEqual(await transport.inspectQueue(queueB), { messages: 1, consumers: 0 });
    assert.ok(!events.some((e) => e.startsWith("task_b:") && e !== "task_b:SENT"));

    await using _workerB = await startWorker(
      transport,
      [testTask("task_b", queueB, () => "Hello from Task B")],
      { name: "worker-b@test" },
    );
    const { outcomes } = await first;
    assert.deepEqual(
      outcomes.map((o) => [o.task, o.status, o.result, o.worker]),
      [
        ["task_a", "SUCCESS", "Hello from Task A", "worker-a@test"],
        ["task_b", "SUCCESS", "Hello from Task B", "worker-b@test"],
      ],
    );
    assert.deepEqual(seenByA, ["task_a"], "worker a ran nothing else");
    assert.equal((await transport.inspectQueue(queueB))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [queueA, queueB]);
  }
});

Deno.test("a worker for two tasks consumes both queues and runs concurrency attempts at once", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queueA = ns.queue("queue_a");
  const queueB = ns.queue("queue_b");
  await using transport = await openTransport(broker.url);
  try {
    let running = 0;
    let peak = 0;
    const work = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 50));
      running--;
      return "done";
    };
    await using _worker = await startWorker(
      transport,
      [testTask("task_a", queueA, work), testTask("task_b", queueB, work)],
      { concurrency: 3 },
    );
    const jobs = Array.from({ length: 12 }, (_, i) => ({
      task: i % 2 ? "task_b" : "task_a",
      queue: i % 2 ? queueB : queueA,
      args: [],
      kwargs: {},
    }));
    const { outcomes } = await runDispatch(transport, jobs);
    assert.equal(outcomes.filter((o) => o.status === "SUCCESS").length, 12);
    assert.equal(peak, 3);
  } finally {
    await deleteQueues(broker.url, [queueA, queueB]);
  }
});

Deno.test("a worker holds at most `prefetch` unacknowledged messages per queue", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_p");
  await using transport = await openTransport(broker.url);
  try {
    const release = Promise.withResolvers<void>();
    const worker = new Worker({
      transport,
      tasks: [testTask("task_p", queue, () => release.promise.then(() => "done"))],
      name: "prefetch@test",
      concurrency: 1,
      prefetch: 2,
      logger: testLogger(),
    });
    await worker.start();
    try {
      const jobs = Array.from(
        { length: 5 },
        () => ({ task: "task_p", queue, args: [], kwargs: {} }),
      );
      const dispatched = runDispatch(transport, jobs);
      // Two of five are held by the worker, three stay ready.
      await waitUntil(
        "three messages stay ready",
        async () => (await transport.inspectQueue(queue))?.messages === 3,
        2000,
      );
      release.resolve();
      const { outcomes } = await dispatched;
      assert.equal(outcomes.filter((o) => o.status === "SUCCESS").length, 5);
    } finally {
      await worker.stop({ drainTimeoutMs: 1000 });
    }
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
