/**
 * Two `dts worker --task a` on one host get different default names, so
 * `dts status` (and every remote-control reply) shows both.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runCli } from "../helpers/run_cli.ts";
import { spawnWorker, tempConfig } from "../helpers/test_kit.ts";

Deno.test("two dts worker --task a on one host have distinct default names and both answer dts status", async () => {
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_a");
  await using config = await tempConfig(`tasks:\n  a: { name: task_a, queue: ${queue} }\n`);
  try {
    const args = ["--task", "a", "--config", config.path];
    await using first = await spawnWorker(args, { brokerUrl: broker.url });
    await using second = await spawnWorker(args, { brokerUrl: broker.url });
    const run = await runCli(["status", "--json", "--config", config.path], {
      env: { DTS_BROKER_URL: broker.url },
    });
    assert.equal(run.code, 0, run.stderr);
    const workers: { name: string; pid: number }[] = JSON.parse(run.stdout).workers;
    const hostname = Deno.hostname();
    for (const worker of [first, second]) {
      const name = `worker-a.${worker.pid}@${hostname}`;
      const found = workers.find((w) => w.name === name);
      assert.ok(found, `${name} in ${JSON.stringify(workers)}`);
      assert.equal(found.pid, worker.pid);
    }
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
