/**
 * A broker password that the URL parser accepts but a naive redaction
 * misses (a space, a raw `@`, a `:`) never shows: not in `dts status`, not
 * in `dts dispatch` (stdout, logs, the saved file), not in a worker's logs,
 * and not in the `stats` remote-control reply any broker user can ask for.
 */
import assert from "node:assert/strict";
import { inspectWorkers } from "../../src/client/inspect_workers.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { temporaryBrokerUser } from "../helpers/broker_user.ts";
import { runCli } from "../helpers/run_cli.ts";
import { spawnWorker, tempDir } from "../helpers/test_kit.ts";

const PASSWORD = "Zq9 x@Kp:77";
const FRAGMENTS = ["Zq9", "x@Kp", "Kp:77", "%20x", "%40Kp"];

function assertNoSecret(text: string, where: string): void {
  for (const fragment of FRAGMENTS) {
    assert.ok(!text.includes(fragment), `${where} shows ${JSON.stringify(fragment)}:\n${text}`);
  }
}

Deno.test("a password with a space, @ and : never appears in status, dispatch, logs or stats", async () => {
  await using broker = await testBroker();
  await using user = await temporaryBrokerUser(broker.url, PASSWORD);
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  await using tmp = await tempDir();
  const config = `${tmp.path}/config.yml`;
  await Deno.writeTextFile(
    config,
    `name: redaction\ntasks:\n  a: { name: task_a, queue: ${queue} }\ndispatch:\n  timeout: 20s\n  jobs: [ { task: a } ]\n`,
  );
  const env = { DTS_BROKER_URL: user.url };
  const shown = `amqp://${user.name}:***@${new URL(broker.url).host}/`;
  const workerName = `worker-${ns.prefix}@test`;
  try {
    await using worker = await spawnWorker([
      "--task",
      "a",
      "--config",
      config,
      "--name",
      workerName,
    ], {
      brokerUrl: user.url,
    });

    const statusJson = await runCli(["status", "--json", "--config", config], { env });
    assert.equal(statusJson.code, 0, statusJson.stderr);
    assertNoSecret(statusJson.stdout + statusJson.stderr, "dts status --json");
    assert.equal(JSON.parse(statusJson.stdout).broker.url, shown);
    const statusPretty = await runCli(["status", "--config", config], { env });
    assert.equal(statusPretty.code, 0, statusPretty.stderr);
    assertNoSecret(statusPretty.stdout + statusPretty.stderr, "dts status");
    assert.ok(statusPretty.stdout.includes(shown), statusPretty.stdout);

    const results = `${tmp.path}/results`;
    const dispatch = await runCli(
      ["dispatch", "--config", config, "--output", "json", "--results-dir", results],
      { env },
    );
    assert.equal(dispatch.code, 0, dispatch.stderr);
    assertNoSecret(dispatch.stdout + dispatch.stderr, "dts dispatch --output json");
    assert.equal(JSON.parse(dispatch.stdout).broker, shown);
    const saved = [...Deno.readDirSync(results)].filter((e) => e.name.endsWith(".json"));
    assert.equal(saved.length, 1);
    assertNoSecret(await Deno.readTextFile(`${results}/${saved[0].name}`), "the results file");
    const pretty = await runCli(
      ["dispatch", "--config", config, "--output", "pretty", "--no-save"],
      { env },
    );
    assert.equal(pretty.code, 0, pretty.stderr);
    assertNoSecret(pretty.stdout + pretty.stderr, "dts dispatch --output pretty");

    // Any broker user may ask every worker for its stats (`celery inspect stats`).
    await using transport = await openTransport(broker.url);
    const stats = await inspectWorkers(transport, { method: "stats", timeoutMs: 1000 });
    const ours = stats.get(workerName) as { broker?: unknown } | undefined;
    assert.ok(ours, `no stats from ${workerName}: ${[...stats.keys()]}`);
    assertNoSecret(JSON.stringify(ours), "the stats reply");
    assert.deepEqual(ours.broker, { transport: "amqp" });

    const run = await worker.stop();
    assertNoSecret(run.stderr + run.stdout, "the worker's log");
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
