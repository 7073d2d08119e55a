/**
 * Every delivery ends settled, on a real RabbitMQ: what used to leave a
 * message unacknowledged for good (and its prefetch slot taken) now ends in
 * a result, a retry, a dead letter or a release.
 */
import assert from "node:assert/strict";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import {
  deleteQueues,
  messagesInDelayLadder,
  testBroker,
  testNamespace,
} from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import {
  drainQueue,
  FIXTURE_PLUGINS,
  spawnWorker,
  tempConfig,
  waitUntil,
} from "../helpers/test_kit.ts";

Deno.test("a result over the broker's max_message_size is a FAILURE its sender sees; the 300 tasks beside it all finish", async () => {
  await using broker = await startSecondBroker({ conf: ["max_message_size = 1048576"] });
  await using config = await tempConfig(
    `tasks:\n  big:\n    name: task_big_result\n    queue: queue_big\nworker:\n  concurrency: 8\n`,
  );
  await using _worker = await spawnWorker(
    ["--task", "big", "--config", config.path, "--plugins", FIXTURE_PLUGINS.reliability],
    { brokerUrl: broker.url, env: { DTS_HEALTH_PORT: "0" } },
  );
  await using transport = await openTransport(broker.url);
  const jobs = [
    { task: "task_big_result", queue: "queue_big", args: [2_000_000], kwargs: {} },
    ...Array.from({ length: 300 }, (_, i) => ({
      task: "task_big_result",
      queue: "queue_big",
      args: [i],
      kwargs: {},
    })),
  ];
  const started = performance.now();
  const { outcomes } = await runDispatch(transport, jobs, { timeoutMs: 60_000 });
  console.log(
    `301 tasks, one result of 2 MB over a 1 MiB limit: ${
      (performance.now() - started).toFixed(0)
    } ms`,
  );
  const big = outcomes.find((o) => o.error?.type === "ResultTooLargeError");
  assert.ok(big, JSON.stringify(outcomes.filter((o) => o.status !== "SUCCESS")));
  assert.equal(big.status, "FAILURE");
  assert.match(big.error?.message ?? "", /broker takes at most 1048576/);
  assert.equal(outcomes.filter((o) => o.status === "SUCCESS").length, 300);
  const dead = await drainQueue(transport, deadLetterQueueName("queue_big"));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].props.headers["x-dts-error-type"], "ResultTooLargeError");
  assert.deepEqual(await transport.inspectQueue("queue_big"), { messages: 0, consumers: 1 });
});

Deno.test("an eta ten years out is handed to the broker's delay ladder and acked, not left unsettled", async () => {
  await using broker = await startSecondBroker();
  await using config = await tempConfig(`tasks:\n  ok:\n    name: task_ok\n    queue: queue_far\n`);
  await using worker = await spawnWorker(
    [
      "--task",
      "ok",
      "--config",
      config.path,
      "--plugins",
      FIXTURE_PLUGINS.good,
      "--log-level",
      "debug",
    ],
    { brokerUrl: broker.url, env: { DTS_HEALTH_PORT: "0" } },
  );
  await using transport = await openTransport(broker.url);
  const far = createTaskMessage("task_ok", {
    eta: new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000).toISOString(),
  });
  const { body, props } = encodeTaskMessage(far);
  await transport.publish("queue_far", body, props);
  await worker.waitFor(/"Deferred a task until its eta"/);
  await waitUntil(
    "the ladder to hold it",
    async () => (await messagesInDelayLadder(transport)) === 1,
  );
  // The worker is free: the next task runs at once.
  const { outcomes } = await runDispatch(transport, [
    { task: "task_ok", queue: "queue_far", args: [1], kwargs: {} },
  ]);
  assert.equal(outcomes[0].status, "SUCCESS");
  assert.deepEqual(await transport.inspectQueue("queue_far"), { messages: 0, consumers: 1 });
});

Deno.test("a <queue>.dead deleted while a worker runs is declared again and gets its dead letter", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("dead_gone");
  await using config = await tempConfig(
    `tasks:\n  nr:\n    name: task_non_retryable\n    queue: ${q}\n`,
  );
  await using transport = await openTransport(broker.url);
  try {
    await using _worker = await spawnWorker(
      ["--task", "nr", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good],
      { brokerUrl: broker.url, env: { DTS_HEALTH_PORT: "0" } },
    );
    await transport.deleteQueue(deadLetterQueueName(q));
    // Published straight to the queue: a sender's declare would bring .dead back by itself.
    const { body, props } = encodeTaskMessage(createTaskMessage("task_non_retryable"));
    await transport.publish(q, body, props);
    await waitUntil(
      "the dead letter",
      async () => (await transport.inspectQueue(deadLetterQueueName(q)))?.messages === 1,
    );
    assert.deepEqual(await transport.inspectQueue(q), { messages: 0, consumers: 1 });
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
