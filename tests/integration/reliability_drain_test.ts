/**
 * SIGTERM drains a `dts worker`: the task in flight finishes and its result
 * is published; past the drain timeout the message goes back to the queue.
 * Either way the worker exits 0.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig } from "../helpers/test_kit.ts";

Deno.test("dts worker on SIGTERM finishes the task in flight, publishes its result and exits 0", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("drain");
  await using config = await tempConfig(`tasks:\n  slow:\n    name: task_slow\n    queue: ${q}\n`);
  await using transport = await openTransport(broker.url);
  try {
    await using worker = await spawnWorker(
      ["--task", "slow", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good],
      { brokerUrl: broker.url },
    );
    const dispatching = runDispatch(transport, [
      { task: "task_slow", queue: q, args: [], kwargs: { ms: 800 } },
    ]);
    await worker.waitFor(/"Task started"/);
    worker.kill("SIGTERM");
    const [exit, { outcomes }] = await Promise.all([worker.finished(), dispatching]);

    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stderr, /"Draining in-flight tasks"/);
    assert.equal(outcomes[0].status, "SUCCESS");
    assert.equal(outcomes[0].result, "slept 800 ms");
    assert.deepEqual(await transport.inspectQueue(q), { messages: 0, consumers: 0 });
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("dts worker on SIGTERM requeues a task that outlasts worker.drain_timeout and exits 0", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("drain_timeout");
  await using config = await tempConfig(
    `tasks:\n  slow:\n    name: task_slow\n    queue: ${q}\nworker:\n  drain_timeout: 200ms\n`,
  );
  await using transport = await openTransport(broker.url);
  try {
    await using worker = await spawnWorker(
      ["--task", "slow", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good],
      { brokerUrl: broker.url },
    );
    const stop = new AbortController();
    const dispatching = runDispatch(transport, [
      { task: "task_slow", queue: q, args: [], kwargs: { ms: 10_000 } },
    ], { signal: stop.signal });
    await worker.waitFor(/"Task started"/);
    worker.kill("SIGTERM");
    const exit = await worker.finished();
    // The message is back in the queue, not lost and not settled as a result.
    const info = await transport.inspectQueue(q);
    stop.abort();
    const { events, outcomes } = await dispatching;

    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stderr, /"Task interrupted by shutdown; requeued"/);
    assert.deepEqual(info, { messages: 1, consumers: 0 });
    assert.ok(events.some((e) => e.type === "STARTED"));
    assert.ok(!events.some((e) => e.type === "SUCCESS" || e.type === "FAILURE"));
    // The dispatch was stopped before a result: INTERRUPTED, not TIMEOUT.
    assert.equal(outcomes[0].status, "INTERRUPTED");
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
