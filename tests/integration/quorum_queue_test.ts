/**
 * Quorum task queues end to end: a sender that runs before any worker
 * declares the queue as the workers are configured; a worker whose queue
 * exists as another type stops with a line that says how to fix it; and a
 * task cut short by graceful shutdowns is never dead-lettered by the
 * queue's delivery limit (dts gives it back uncounted).
 */
import assert from "node:assert/strict";
import { QueueMismatchError } from "../../src/errors.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig, waitUntil } from "../helpers/test_kit.ts";

function quorumConfig(q: string, extra = ""): string {
  return `tasks:\n  slow:\n    name: task_slow\n    queue: ${q}\nworker:\n  queue_type: quorum\n  delivery_limit: 2\n${extra}` +
    `dispatch:\n  timeout: 1s\n  jobs: [ { task: slow } ]\n`;
}

Deno.test("dts dispatch run before any quorum worker declares the queue quorum; the worker then starts", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("qq_first");
  await using config = await tempConfig(quorumConfig(q));
  await using transport = await openTransport(broker.url);
  try {
    const sent = await runCli(
      [
        "dispatch",
        "--config",
        config.path,
        "--plugins",
        FIXTURE_PLUGINS.good,
        "--no-save",
        "--output",
        "json",
      ],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    assert.equal(sent.code, 1, "TIMEOUT: no worker yet");
    await assert.rejects(transport.assertTaskQueue(q, { type: "classic" }), QueueMismatchError);
    await using _worker = await spawnWorker(
      ["--task", "slow", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good],
      { brokerUrl: broker.url, env: { DTS_HEALTH_PORT: "0" } },
    );
    await waitUntil(
      "the worker to consume",
      async () => (await transport.inspectQueue(q))?.consumers === 1,
    );
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a quorum worker whose queue exists as classic stops with exit 2 and how to fix it", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("qq_mismatch");
  await using config = await tempConfig(quorumConfig(q));
  await using transport = await openTransport(broker.url);
  try {
    await transport.assertTaskQueue(q, { type: "classic" });
    const run = await new CliProcess(
      ["worker", "--task", "slow", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good],
      { env: { DTS_BROKER_URL: broker.url, DTS_HEALTH_PORT: "0" } },
    ).finished();
    assert.equal(run.code, 2, run.stderr);
    const line = run.stderr.trim().split("\n").at(-1) ?? "";
    assert.match(
      line,
      new RegExp(
        `^dts: Cannot declare task queue "${q}" as quorum: it exists with other arguments \\(`,
      ),
    );
    assert.match(line, new RegExp(`rabbitmqctl delete_queue ${q}`));
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("graceful shutdowns that cut a task short count neither toward the delivery limit nor as worker deaths", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("qq_drain");
  await using config = await tempConfig(quorumConfig(q, "  drain_timeout: 100ms\n"));
  await using transport = await openTransport(broker.url);
  try {
    const args = ["--task", "slow", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good];
    const env = { DTS_HEALTH_PORT: "0" };
    // Four workers in turn take the task and are stopped before it finishes: more
    // than the queue's delivery limit (2) and than worker.max_redeliveries (3),
    // so a requeue counted by either would dead-letter it.
    let worker = await spawnWorker(args, { brokerUrl: broker.url, env });
    const dispatching = runDispatch(transport, [
      { task: "task_slow", queue: q, args: [], kwargs: { ms: 1500 } },
    ], { timeoutMs: 60_000 });
    for (let i = 0; i < 4; i++) {
      await worker.waitFor(/"Task started"/);
      const exit = await worker.stop(5000);
      assert.equal(exit.code, 0, exit.stderr);
      assert.match(exit.stderr, /"Task interrupted by shutdown; requeued"/);
      worker = await spawnWorker(args, { brokerUrl: broker.url, env });
    }
    await using _last = worker;
    const { outcomes } = await dispatching;
    assert.equal(outcomes[0].status, "SUCCESS", JSON.stringify(outcomes[0]));
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
