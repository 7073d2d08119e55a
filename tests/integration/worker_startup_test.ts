/**
 * Workers start before their broker in real deployments: a `dts worker`
 * keeps trying until the broker comes up (`/readyz` 503 meanwhile), gives up
 * with exit 3 after `--connect-timeout`, and stops at once on what waiting
 * cannot fix (a wrong password). And a worker whose queue is deleted under it
 * declares it again and keeps consuming instead of exiting.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { CliProcess } from "../helpers/run_cli.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { FIXTURE_PLUGINS, freePort, tempConfig, waitUntil } from "../helpers/test_kit.ts";

async function readyz(port: number): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

Deno.test("dts worker started before its broker waits for it, /readyz 503 meanwhile, then serves", async () => {
  const brokerPort = freePort();
  const healthPort = freePort();
  const q = testNamespace().queue("early");
  await using config = await tempConfig(`tasks:\n  ok:\n    name: task_ok\n    queue: ${q}\n`);
  await using worker = new CliProcess(
    [
      "worker",
      "--task",
      "ok",
      "--config",
      config.path,
      "--plugins",
      FIXTURE_PLUGINS.good,
      "--log-format",
      "json",
    ],
    {
      env: {
        DTS_BROKER_URL: `amqp://guest:guest@127.0.0.1:${brokerPort}/`,
        DTS_HEALTH_PORT: String(healthPort),
      },
    },
  );
  await worker.waitFor(/broker not reachable yet; trying again/, 30_000);
  assert.equal(await readyz(healthPort), 503, "not ready while the broker is away");
  const waitedFrom = performance.now();
  await using broker = await startSecondBroker({ port: brokerPort });
  await waitUntil("the worker to be ready", async () => (await readyz(healthPort)) === 200, 30_000);
  console.log(
    `broker up -> worker ready: ${
      (performance.now() - waitedFrom).toFixed(0)
    } ms (incl. node start)`,
  );
  await using transport = await openTransport(broker.url);
  const { outcomes } = await runDispatch(transport, [
    { task: "task_ok", queue: q, args: ["hi"], kwargs: {} },
  ]);
  assert.equal(outcomes[0].status, "SUCCESS");
  assert.doesNotMatch(worker.stderr, /Cannot connect to broker/);
});

Deno.test("dts worker --connect-timeout gives up on an unreachable broker with exit 3 and one line", async () => {
  const started = performance.now();
  const run = await new CliProcess(
    ["worker", "--task", "a", "--connect-timeout", "1500ms", "--log-format", "json"],
    {
      env: { DTS_BROKER_URL: `amqp://guest:guest@127.0.0.1:${freePort()}/`, DTS_HEALTH_PORT: "0" },
    },
  ).finished();
  const tookMs = performance.now() - started;
  assert.equal(run.code, 3, run.stderr);
  assert.ok(tookMs > 1400 && tookMs < 15_000, `gave up after ${tookMs.toFixed(0)} ms`);
  const last = run.stderr.trim().split("\n").at(-1) ?? "";
  assert.match(
    last,
    /^dts: Cannot connect to broker "amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+\/": nothing listens/,
  );
});

Deno.test("dts worker stops at once on a wrong password: waiting cannot fix it", async () => {
  await using broker = await testBroker();
  const url = new URL(broker.url);
  url.password = "certainly-wrong";
  const started = performance.now();
  const run = await new CliProcess(["worker", "--task", "a", "--log-format", "json"], {
    env: { DTS_BROKER_URL: url.href, DTS_HEALTH_PORT: "0" },
  }).finished();
  assert.equal(run.code, 3, run.stderr);
  assert.ok(performance.now() - started < 10_000, "no retries for a refused login");
  assert.match(run.stderr, /was refused: wrong user name or password/);
  assert.doesNotMatch(run.stderr, /certainly-wrong/);
});

Deno.test("a dts worker whose queue is deleted under it declares it again and keeps serving", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("deleted");
  const healthPort = freePort();
  await using config = await tempConfig(`tasks:\n  ok:\n    name: task_ok\n    queue: ${q}\n`);
  await using transport = await openTransport(broker.url);
  try {
    await using worker = new CliProcess(
      [
        "worker",
        "--task",
        "ok",
        "--config",
        config.path,
        "--plugins",
        FIXTURE_PLUGINS.good,
        "--log-format",
        "json",
      ],
      { env: { DTS_BROKER_URL: broker.url, DTS_HEALTH_PORT: String(healthPort) } },
    );
    await worker.waitFor(/"Worker started"/, 30_000);
    await waitUntil("ready", async () => (await readyz(healthPort)) === 200);
    await transport.deleteQueue(q);
    await worker.waitFor(/Stopped consuming a queue; declaring it again and resuming/);
    await waitUntil("ready again", async () => (await readyz(healthPort)) === 200, 20_000);
    const { outcomes } = await runDispatch(transport, [
      { task: "task_ok", queue: q, args: ["again"], kwargs: {} },
    ]);
    assert.equal(outcomes[0].status, "SUCCESS");
    assert.equal((await transport.inspectQueue(q))?.consumers, 1);
    assert.doesNotMatch(worker.stderr, /unexpected error|Uncaught/);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
