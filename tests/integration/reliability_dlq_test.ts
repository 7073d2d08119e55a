/**
 * `dts dlq list|replay|purge` on real dead letters, and quorum task queues
 * (`--queue-type quorum`) whose delivery limit dead-letters a poison message.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { spawnWorker, tempConfig, waitUntil } from "../helpers/test_kit.ts";
import { runCli } from "../helpers/run_cli.ts";

Deno.test("dts dlq lists dead letters without losing them, replays them with retries 0, purges them", async () => {
  await using broker = await testBroker();
  // `--task <key>` resolves an unknown key to task_<key> on queue_<key>.
  const key = `${testNamespace().prefix}_dlq`;
  const q = `queue_${key}`;
  const env = { DTS_BROKER_URL: broker.url };
  await using transport = await openTransport(broker.url);
  try {
    let failing = true;
    const seen: { retries: number }[] = [];
    const task = testTask(`task_${key}`, q, (ctx) => {
      seen.push({ retries: ctx.retries });
      if (failing) throw new RangeError(`broken ${ctx.args[0]}`);
      return "fixed";
    }, { retry: { maxRetries: 1, backoffMs: 20, factor: 1, maxBackoffMs: 20, jitter: false } });
    await using worker = await startWorker(transport, [task]);
    const jobs = [1, 2, 3].map((i) => ({ task: task.name, queue: q, args: [i], kwargs: {} }));
    const first = await runDispatch(transport, jobs);
    assert.ok(first.outcomes.every((o) => o.status === "FAILURE" && o.retries === 1));

    const list = await runCli(["dlq", "list", "--task", key, "--json"], { env });
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout);
    assert.equal(doc.queue, q);
    assert.equal(doc.dead_queue, `${q}.dead`);
    assert.equal(doc.total, 3);
    assert.deepEqual(
      doc.messages.map((m: Record<string, unknown>) => m.error_message).sort(),
      ["broken 1", "broken 2", "broken 3"],
    );
    assert.deepEqual(
      doc.messages.map((m: { args: unknown[] }) => m.args).sort(),
      [[1], [2], [3]],
      "the args each task was sent with",
    );
    for (const m of doc.messages) {
      assert.deepEqual(m.kwargs, {});
      assert.match(m.reason, /^RangeError: broken \d \(gave up after 1 retries\)$/);
      assert.equal(m.error_type, "RangeError");
      assert.equal(m.retries, 1);
      assert.equal(m.original_queue, q);
      assert.equal(m.task, task.name);
      assert.ok(!Number.isNaN(Date.parse(m.dead_at)));
    }
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 3, "kept");

    const pretty = await runCli(["dlq", "list", "--task", key, "--limit", "2"], { env });
    assert.equal(pretty.code, 0, pretty.stderr);
    assert.match(pretty.stdout, new RegExp(`^${q}\\.dead: 3 dead letters \\(showing 2\\)`));
    assert.match(pretty.stdout, /reason: RangeError: broken \d \(gave up after 1 retries\)/);
    assert.match(pretty.stdout, /^ {3}args: \[\d\] {2}kwargs: \{\}$/m);
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 3, "kept");

    failing = false;
    seen.length = 0;
    const replay = await runCli(["dlq", "replay", "--task", key], { env });
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(replay.stdout, `Replayed 3 dead letters from ${q}.dead to ${q}\n`);
    await waitUntil("three replayed runs", () => seen.length === 3 && worker.inFlight === 0);
    assert.deepEqual(seen.map((s) => s.retries), [0, 0, 0], "fresh retry count");
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
    assert.equal((await transport.inspectQueue(q))?.messages, 0);

    failing = true;
    await runDispatch(transport, jobs.slice(0, 2));
    const one = await runCli(["dlq", "purge", "--task", key, "--limit", "1", "--json"], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout), { queue: q, dead_queue: `${q}.dead`, purged: 1 });
    const rest = await runCli(["dlq", "purge", "--task", key], { env });
    assert.equal(rest.stdout, `Purged 1 dead letter from ${q}.dead\n`);
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);

    const usage = await runCli(["dlq", "list"], { env });
    assert.equal(usage.code, 2);
    const unreachable = await runCli(["dlq", "list", "--task", key], {
      env: { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:5999/" },
    });
    assert.equal(unreachable.code, 3);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("dts worker --queue-type quorum declares a quorum queue whose delivery limit dead-letters a poison message", async () => {
  await using broker = await testBroker();
  const key = `${testNamespace().prefix}_quorum`;
  const q = `queue_${key}`;
  await using config = await tempConfig(`worker:\n  delivery_limit: 2\n`);
  await using transport = await openTransport(broker.url);
  try {
    // A plugin for a task on this namespaced queue, written here.
    const dir = await Deno.makeTempDir({ prefix: "dts_rel_plugins_" });
    await Deno.writeTextFile(
      `${dir}/poison.ts`,
      `export default { name: "task_${key}", run() { return "ok"; } };\n`,
    );
    try {
      const worker = await spawnWorker(
        ["--task", key, "--queue-type", "quorum", "--config", config.path, "--plugins", dir],
        { brokerUrl: broker.url },
      );
      // A sender (the dispatcher declares classic) still works with a quorum queue.
      const { outcomes } = await runDispatch(transport, [
        { task: `task_${key}`, queue: q, args: [], kwargs: {} },
      ]);
      assert.deepEqual(outcomes.map((o) => [o.status, o.result]), [["SUCCESS", "ok"]]);
      worker.kill("SIGTERM");
      assert.equal((await worker.finished()).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    // Equivalent to what the worker declared; a classic declaration is refused.
    await transport.assertTaskQueue(q, { type: "quorum", deliveryLimit: 2 });
    await assert.rejects(transport.assertTaskQueue(q, { type: "classic" }), /x-queue-type|x-dead/);

    // A poison message: every consumer that takes it gives it back.
    await transport.publish(q, new TextEncoder().encode("poison"), {
      persistent: true,
      headers: { id: "poison-1", task: `task_${key}` },
    });
    let deliveries = 0;
    for (let d = await transport.get(q); d !== null; d = await transport.get(q)) {
      deliveries++;
      await d.requeue();
      assert.ok(deliveries < 10, "the delivery limit stopped it");
    }
    assert.equal(deliveries, 3, "delivered 1 + delivery_limit times");
    await waitUntil(
      "the dead letter",
      async () => (await transport.inspectQueue(deadLetterQueueName(q)))?.messages === 1,
    );

    const list = await runCli(["dlq", "list", "--task", key, "--json"], {
      env: { DTS_BROKER_URL: broker.url },
    });
    assert.equal(list.code, 0, list.stderr);
    const [message] = JSON.parse(list.stdout).messages;
    assert.equal(message.id, "poison-1");
    assert.equal(message.reason, "delivery_limit");
    assert.equal(message.original_queue, q);
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
