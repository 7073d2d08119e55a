/**
 * A task that takes its worker process down (here: SIGKILL of its own pid,
 * as a native crash or the OOM killer would) must not crash-loop the fleet
 * forever: each worker that receives it after a death counts it, the tasks
 * queued behind it still run, and after `worker.max_redeliveries` (3) deaths
 * it is dead-lettered with the reason and its sender told. On a classic
 * queue, which counts nothing itself.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { CliProcess } from "../helpers/run_cli.ts";
import { drainQueue, FIXTURE_PLUGINS, tempConfig } from "../helpers/test_kit.ts";

Deno.test("a task that kills its worker is dead-lettered after 4 deaths; the 5 tasks behind it run", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("poison");
  await using config = await tempConfig(
    `tasks:\n  crash:\n    name: task_crash\n    queue: ${q}\n`,
  );
  await using transport = await openTransport(broker.url);
  try {
    const jobs = [
      { task: "task_crash", queue: q, args: ["die"], kwargs: {} },
      ...Array.from(
        { length: 5 },
        (_, i) => ({ task: "task_crash", queue: q, args: [i], kwargs: {} }),
      ),
    ];
    const dispatching = runDispatch(transport, jobs, { timeoutMs: 120_000 });
    // A supervisor: start a worker again each time one dies, as systemd or `dts scale` would.
    const exits: number[] = [];
    let settled = false;
    dispatching.finally(() => (settled = true));
    while (!settled && exits.length < 8) {
      const worker = new CliProcess(
        [
          "worker",
          "--task",
          "crash",
          "--config",
          config.path,
          "--plugins",
          FIXTURE_PLUGINS.reliability,
        ],
        { env: { DTS_BROKER_URL: broker.url, DTS_HEALTH_PORT: "0", DTS_LOG_FORMAT: "json" } },
      );
      const exited = worker.finished();
      const winner = await Promise.race([exited, dispatching.then(() => null)]);
      if (winner === null) {
        await worker.stop();
        break;
      }
      exits.push(winner.code);
    }
    const { outcomes } = await dispatching;
    console.log(`worker exits: ${JSON.stringify(exits)} (137 = SIGKILL)`);
    const poison = outcomes.find((o) => o.error?.type === "WorkerLostError");
    assert.ok(poison, JSON.stringify(outcomes));
    assert.equal(poison.status, "FAILURE");
    assert.match(poison.error?.message ?? "", /died 4 times/);
    assert.deepEqual(
      outcomes.filter((o) => o.status === "SUCCESS").map((o) => o.result).sort(),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(exits, [137, 137, 137, 137], "4 deaths, then no more");
    const dead = await drainQueue(transport, deadLetterQueueName(q));
    assert.equal(dead.length, 1);
    assert.equal(dead[0].props.headers["x-dts-redeliveries"], 4);
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
