/**
 * `dispatch.expected_workers` counts the workers that consume the jobs'
 * queues, not every worker alive on the broker.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig } from "../helpers/test_kit.ts";

Deno.test("dts dispatch counts only the workers serving its queues towards expected_workers", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queueA = ns.queue("queue_a");
  const queueOther = ns.queue("queue_other");
  await using config = await tempConfig(
    [
      "tasks:",
      `  a: { name: task_a, queue: ${queueA} }`,
      `  ok: { name: task_ok, queue: ${queueOther} }`,
      "dispatch:",
      "  expected_workers: 2",
      "  timeout: 20s",
      "  jobs: [ { task: a } ]",
      "",
    ].join("\n"),
  );
  const env = { DTS_BROKER_URL: broker.url };
  try {
    const common = ["--config", config.path, "--plugins", FIXTURE_PLUGINS.good];
    await using _a = await spawnWorker(["--task", "a", "--name", `a-${ns.prefix}@h`, ...common], {
      brokerUrl: broker.url,
    });
    await using _other = await spawnWorker(
      ["--task", "ok", "--name", `other-${ns.prefix}@h`, ...common],
      { brokerUrl: broker.url },
    );
    const run = await runCli(
      ["dispatch", "--config", config.path, "--output", "pretty", "--no-save"],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const header = run.stdout.split("\n").find((l) => l.startsWith("  workers  ")) ?? "";
    assert.match(
      header,
      new RegExp(`^  workers  1 of 2 expected serve these queues: a-${ns.prefix}@h\\b`),
    );
    assert.doesNotMatch(header, new RegExp(`other-${ns.prefix}@h`));
    assert.match(run.stdout, /WARN: 1 of 2 expected workers missing/);
  } finally {
    await deleteQueues(broker.url, [queueA, queueOther]);
  }
});
