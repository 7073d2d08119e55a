/**
 * dts on a private 3-node RabbitMQ cluster with quorum queues: workers and
 * the dispatcher get every node's URL, a node is killed with `kill -9`
 * mid-run and brought back. Nothing may be lost and the dispatcher may see
 * no task twice; a task may run twice (at-least-once). Slow (a cluster
 * start is ~20 s): `.ci/run` runs this folder as its own step.
 *
 * Two cases: the node every client is connected to dies (but the task
 * queue's leader lives elsewhere); and the node leading the task queue dies
 * (the clients are elsewhere).
 * @module
 */
import assert from "node:assert/strict";
import { dispatch } from "../../src/dispatch/dispatcher.ts";
import type { TaskEvent } from "../../src/report/task_event.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { testNamespace } from "../helpers/broker.ts";
import { type RabbitCluster, startCluster } from "../helpers/rabbit_cluster.ts";
import type { CliProcess } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig } from "../helpers/test_kit.ts";

const TASKS = 1000;
const TASK_MS = 20;
/** Every tenth task fails its first attempt: retries wait in the delay queues during the kill. */
const RETRYING_EVERY = 10;
/** How long the killed node stays down. */
const OUTAGE_MS = 20_000;

/** The nodes in the order a client lists them: `first` first, the rest after. */
function urlsStartingAt(cluster: RabbitCluster, first: number): string {
  const n = cluster.nodes.length;
  return Array.from({ length: n }, (_, i) => cluster.nodes[(first + i) % n].url).join(";");
}

interface Outcome {
  finals: Map<string, TaskEvent[]>;
  ranTwice: number;
  /** The longest wait between two results of steady tasks after the kill. */
  longestPauseMs: number;
  lateWorkerStarted: boolean;
  /** Worker log lines saying a declaration or an outcome failed: a failover that did not hold. */
  troubles: string[];
  /** How often each warning or error message came in the workers' logs, for a failure's story. */
  warnings: Record<string, number>;
  left: { queue: number; dead: number };
}

/**
 * Run TASKS tasks; when a third are done, kill node `victim` and start one
 * more worker during the outage; bring the node back after OUTAGE_MS.
 * Clients list the nodes starting at `clientsAt`; the task queue is
 * declared first through node `leaderAt`, which makes that node its leader.
 */
async function killMidRun(
  cluster: RabbitCluster,
  where: { clientsAt: number; leaderAt: number; victim: number },
): Promise<Outcome> {
  const ns = testNamespace();
  const [q, retryQ] = [ns.queue("cluster"), ns.queue("cluster_retry")];
  await using config = await tempConfig([
    "worker:\n  queue_type: quorum\ntasks:",
    `  slow:\n    name: task_slow\n    queue: ${q}`,
    `  once:\n    name: task_fail_once\n    queue: ${retryQ}\n`,
  ].join("\n"));
  const leaderSide = await AmqpTransport.connect(cluster.nodes[where.leaderAt].url);
  await leaderSide.assertTaskQueue(q, { type: "quorum" });
  await leaderSide.close();
  assert.equal(await cluster.leaderOf(q), where.leaderAt, "the task queue's leader");

  const url = urlsStartingAt(cluster, where.clientsAt);
  const workers: CliProcess[] = [];
  const startWorker = async (name: string) => {
    const worker = await spawnWorker(
      [
        ...["--task", "slow", "--task", "once", "--config", config.path],
        ...["--plugins", FIXTURE_PLUGINS.good, "--plugins", FIXTURE_PLUGINS.reliability],
        ...["--concurrency", "8", "--name", `${name}@cluster`],
      ],
      { brokerUrl: url },
    );
    workers.push(worker);
    return worker;
  };
  try {
    await startWorker("w1");
    await startWorker("w2");
    await using transport = await AmqpTransport.connect(url, {
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
    });
    const finals = new Map<string, TaskEvent[]>();
    let done = 0;
    let killedAt = 0;
    let lastAt = 0;
    let longestPauseMs = 0;
    let outage: Promise<boolean> | null = null;
    const jobs = Array.from(
      { length: TASKS },
      (_, i) =>
        i % RETRYING_EVERY === 0
          ? { task: "task_fail_once", queue: retryQ, args: [], kwargs: { i } }
          : { task: "task_slow", queue: q, args: [], kwargs: { ms: TASK_MS, i } },
    );
    for await (
      const event of dispatch({
        transport,
        jobs,
        timeoutMs: 120_000,
        trackStarted: false,
        queueOptions: { type: "quorum" },
      })
    ) {
      if (event.type !== "SUCCESS" && event.type !== "FAILURE" && event.type !== "TIMEOUT") {
        continue;
      }
      finals.set(event.id, [...(finals.get(event.id) ?? []), event]);
      done++;
      const now = performance.now();
      // Retries wait 1.5 s by design: only the steady tasks measure the pause.
      if (killedAt !== 0 && event.task === "task_slow") {
        longestPauseMs = Math.max(longestPauseMs, now - Math.max(lastAt, killedAt));
      }
      if (event.task === "task_slow") lastAt = now;
      if (outage === null && done >= TASKS / 3) {
        killedAt = performance.now();
        outage = (async () => {
          await cluster.nodes[where.victim].kill();
          // A worker started while the node is down must start.
          const late = await startWorker("late").then(() => true, () => false);
          const leftMs = OUTAGE_MS - (performance.now() - killedAt);
          if (leftMs > 0) await new Promise((resolve) => setTimeout(resolve, leftMs));
          await cluster.nodes[where.victim].restart();
          return late;
        })();
      }
    }
    const lateWorkerStarted = await outage!;
    const listing = await cluster.nodes[2].ctl(
      "list_queues",
      "-q",
      "--no-table-headers",
      "name",
      "type",
      "leader",
      "messages",
      "consumers",
    );
    const busy = listing.split("\n").filter((l) =>
      /\t[1-9]\d*\t\d+$/.test(l) || l.includes(retryQ)
    );
    const depths = await Promise.all(
      [q, retryQ, deadLetterQueueName(q), deadLetterQueueName(retryQ)].map(async (name) =>
        (await transport.inspectQueue(name))?.messages ?? -1
      ),
    );
    return {
      finals,
      ranTwice: ranTwice(workers),
      troubles: workers.flatMap((w) => w.stderr.split("\n").filter((line) => TROUBLE.test(line))),
      longestPauseMs,
      warnings: { ...warningsOf(workers), [`queues: ${busy.join(" | ")}`]: 0 },
      lateWorkerStarted,
      left: { queue: depths[0] + depths[1], dead: depths[2] + depths[3] },
    };
  } finally {
    for (const worker of workers) await worker[Symbol.asyncDispose]();
  }
}

/**
 * What a worker logs when failing over did not hold: a declaration the new
 * node refused, a message dead-lettered for it. ("Cannot settle" is not one:
 * a result in flight when the node dies is redelivered, by design.)
 */
const TROUBLE = /cannot re-declare|dead-lettered/i;

function warningsOf(workers: readonly CliProcess[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const worker of workers) {
    for (const line of worker.stderr.split("\n")) {
      if (!line.startsWith("{")) continue;
      const entry = JSON.parse(line) as { level: string; msg: string; error?: string };
      if (entry.level !== "warn" && entry.level !== "error") continue;
      const key = `${entry.level} ${entry.msg}${
        entry.error ? `: ${entry.error.slice(0, 160)}` : ""
      }`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** Tasks the workers ran to success more than once, from their JSON logs. */
function ranTwice(workers: readonly CliProcess[]): number {
  const runs = new Map<string, number>();
  for (const worker of workers) {
    for (const line of worker.stderr.split("\n")) {
      if (!line.includes('"Task succeeded"')) continue;
      const id = (JSON.parse(line) as { id: string }).id;
      runs.set(id, (runs.get(id) ?? 0) + 1);
    }
  }
  return [...runs.values()].filter((n) => n > 1).length;
}

function assertNothingLost(outcome: Outcome, label: string): void {
  const { finals } = outcome;
  const succeeded = [...finals.values()].filter((es) => es.every((e) => e.type === "SUCCESS"));
  const duplicates = [...finals.values()].filter((es) => es.length > 1).length;
  console.log(
    `${label}: ${succeeded.length}/${TASKS} succeeded, ${duplicates} duplicate results, ` +
      `${outcome.ranTwice} ran twice, longest pause in results after the kill ${
        Math.round(outcome.longestPauseMs)
      } ms`,
  );
  const notSucceeded = [...finals.values()].flat().filter((e) => e.type !== "SUCCESS");
  if (notSucceeded.length > 0) {
    console.log("not succeeded:", JSON.stringify(notSucceeded.slice(0, 3)));
    console.log("worker warnings:", JSON.stringify(outcome.warnings));
  }
  assert.equal(finals.size, TASKS, "every task has a final result");
  assert.equal(succeeded.length, TASKS, "every task succeeded");
  assert.equal(duplicates, 0, "the dispatcher saw no task twice");
  assert.ok(outcome.lateWorkerStarted, "a worker started during the outage");
  assert.deepEqual(outcome.troubles, [], "no declaration or outcome failed on the way");
  assert.deepEqual(outcome.left, { queue: 0, dead: 0 });
}

Deno.test({
  name: "Cluster: the node all clients are on is killed -9 mid-run: 0 lost, 0 duplicate results",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await startCluster(3);
    const outcome = await killMidRun(cluster, { clientsAt: 0, leaderAt: 1, victim: 0 });
    assertNothingLost(outcome, "connected node killed");
  },
});

Deno.test({
  name:
    "Cluster: the node leading the task queue is killed -9 mid-run: 0 lost, 0 duplicate results",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await startCluster(3);
    const outcome = await killMidRun(cluster, { clientsAt: 0, leaderAt: 1, victim: 1 });
    assertNothingLost(outcome, "queue leader killed");
  },
});
