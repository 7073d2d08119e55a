/**
 * `dts worker --autoscale 4,1` as an operator runs it, on RabbitMQ: the pool
 * (the `dts_worker_concurrency` gauge) grows with a backlog of slow tasks,
 * which then run four at once (`dts_tasks_in_flight`; with the pool or the
 * prefetch stuck at 1 they would run one by one), and shrinks back to 1 one
 * slot at a time once the queue is empty. Classic and quorum queues alike:
 * RabbitMQ changes a running consumer's prefetch on neither, so the worker
 * re-subscribes.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { FIXTURE_PLUGINS, freePort, spawnWorker, tempConfig } from "../helpers/test_kit.ts";

const TASKS = 8;

/** The value of an unlabelled gauge in Prometheus text. */
function gauge(metrics: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, "m").exec(metrics);
  assert.ok(match, `no ${name} in /metrics:\n${metrics}`);
  return Number(match[1]);
}

async function readMetrics(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return await response.text();
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  withinMs: number,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function growsAndShrinks(queueType: "classic" | "quorum"): Promise<void> {
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_slow");
  await using config = await tempConfig(
    `tasks:\n  slow: { name: task_slow, queue: ${queue} }\n` +
      `worker: { queue_type: ${queueType}, autoscale_cooldown: 2s, drain_timeout: 5s }\n`,
  );
  await using transport = await openTransport(broker.url);
  const port = freePort();
  try {
    await using worker = await spawnWorker([
      "--task",
      "slow",
      "--autoscale",
      "4,1",
      "--config",
      config.path,
      "--plugins",
      FIXTURE_PLUGINS.good,
      "--health-port",
      String(port),
    ], { brokerUrl: broker.url });
    assert.equal(gauge(await readMetrics(port), "dts_worker_concurrency"), 1, "starts at min");

    // Watch the gauges while a backlog of slow tasks is worked off.
    const seen = { concurrency: 0, inFlight: 0 };
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const metrics = await readMetrics(port);
        seen.concurrency = Math.max(seen.concurrency, gauge(metrics, "dts_worker_concurrency"));
        seen.inFlight = Math.max(seen.inFlight, gauge(metrics, "dts_tasks_in_flight"));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const jobs = Array.from({ length: TASKS }, () => ({
      task: "task_slow",
      queue,
      args: [],
      kwargs: { ms: 1500 },
    }));
    const { outcomes } = await runDispatch(transport, jobs, { timeoutMs: 60_000 });
    watching = false;
    await watcher;

    assert.deepEqual(outcomes.map((o) => o.status), new Array(TASKS).fill("SUCCESS"));
    assert.equal(seen.concurrency, 4, "the pool grew to max, and no further");
    assert.equal(seen.inFlight, 4, "four ran at once: the prefetch followed the pool");
    const grew = logLines(worker.stderr).filter((l) => l.msg === "Pool grew");
    assert.ok(grew.length >= 1, worker.stderr);
    assert.equal(grew[0].from, 1);
    assert.ok((grew[0].backlog as number) > 0, JSON.stringify(grew[0]));
    assert.equal(Math.max(...grew.map((l) => l.to as number)), 4);

    // Idle now: after the 2 s cool-down, one slot a second back to min.
    await waitFor(
      "the pool to shrink back to 1",
      async () => gauge(await readMetrics(port), "dts_worker_concurrency") === 1,
      30_000,
    );
    const shrank = logLines(worker.stderr).filter((l) => l.msg === "Pool shrank");
    assert.deepEqual(shrank.map((l) => [l.from, l.to]).slice(-3), [[4, 3], [3, 2], [2, 1]]);
    assert.ok(shrank.every((l) => l.backlog === 0), JSON.stringify(shrank));

    worker.kill("SIGTERM");
    assert.equal((await worker.finished()).code, 0);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
}

Deno.test("dts worker --autoscale 4,1 grows to 4 under a backlog on a classic queue and shrinks back to 1", async () => {
  await growsAndShrinks("classic");
});

Deno.test("dts worker --autoscale 4,1 grows and shrinks on a quorum queue too", async () => {
  await growsAndShrinks("quorum");
});
