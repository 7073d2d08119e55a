/**
 * A chaos run: `dts worker` processes and an in-process dispatcher, each
 * through its own TCP proxy to the broker; while tasks run, the proxies cut
 * every connection several times (one cut is a longer dispatcher outage) and
 * one worker is killed with SIGKILL. Reports lost tasks and duplicates.
 * Used by `tests/integration/reliability_chaos_test.ts` (small) and
 * `scripts/chaos.ts` (1,000 tasks).
 * @module
 */
import { dispatch } from "../../src/dispatch/dispatcher.ts";
import type { TaskEvent } from "../../src/report/task_event.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { deleteQueues, testNamespace } from "./broker.ts";
import { fastReconnect, FIXTURE_PLUGINS, spawnWorker, tempConfig } from "./test_kit.ts";
import type { CliProcess } from "./run_cli.ts";
import { TcpProxy } from "./tcp_proxy.ts";

/** How hard to shake. */
export interface ChaosOptions {
  brokerUrl: string;
  /** Tasks to dispatch. */
  count: number;
  /** Connection cuts, spread evenly over the run's progress. */
  cuts: number;
  /** Worker processes. @default 2 */
  workers?: number;
  /** Worker SIGKILLs, spread evenly over the run; each killed worker is replaced by a new one. @default 1 */
  kills?: number;
  concurrency?: number;
  /** How long each task works. @default 20 */
  taskMs?: number;
  /** The dispatcher's proxy refuses connections this long at the middle cut. @default 1500 */
  outageMs?: number;
  /** @default 120_000 */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** What a chaos run measured. */
export interface ChaosReport {
  sent: number;
  succeeded: number;
  failed: number;
  /** Tasks without a final result within the timeout. */
  lost: number;
  /** Task ids that got more than one final event from the dispatcher. */
  duplicateResults: number;
  /** Task ids whose plugin ran to success more than once (at-least-once redeliveries). */
  ranTwice: number;
  cuts: number;
  connectionsCut: number;
  killed: number;
  /** Successes the workers finished while the dispatcher was disconnected, collected later. */
  finishedDuringOutage: number;
  /** What the task queue and its dead-letter queue held afterwards. */
  left: { queue: number; dead: number };
  durationMs: number;
}

/** Run the chaos; cleans up its queues, proxies and processes. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const target = new URL(options.brokerUrl);
  const upstream = { hostname: target.hostname, port: Number(target.port || 5672) };
  const q = testNamespace().queue("chaos");
  await using config = await tempConfig(`tasks:\n  slow:\n    name: task_slow\n    queue: ${q}\n`);
  await using workerProxy = TcpProxy.start(upstream);
  await using dispatchProxy = TcpProxy.start(upstream);
  /** Every worker ever started (their logs are counted at the end), and the ones alive. */
  const workers: CliProcess[] = [];
  const alive: CliProcess[] = [];
  const started = performance.now();
  let spawned = 0;
  const startWorker = async (): Promise<CliProcess> => {
    const worker = await spawnWorker([
      "--task",
      "slow",
      "--config",
      config.path,
      "--plugins",
      FIXTURE_PLUGINS.good,
      "--concurrency",
      String(options.concurrency ?? 8),
      "--name",
      `chaos-${spawned++}@test`,
    ], { brokerUrl: workerProxy.url(options.brokerUrl) });
    workers.push(worker);
    alive.push(worker);
    return worker;
  };
  const respawns: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < (options.workers ?? 2); i++) await startWorker();
    await using transport = await fastReconnect(dispatchProxy.url(options.brokerUrl));
    const taskMs = options.taskMs ?? 20;
    const jobs = Array.from({ length: options.count }, (_, i) => ({
      task: "task_slow",
      queue: q,
      args: [],
      kwargs: { ms: taskMs, i },
    }));
    const finals = new Map<string, TaskEvent[]>();
    let done = 0;
    let cuts = 0;
    let connectionsCut = 0;
    let killed = 0;
    const outage = { from: Infinity, to: -Infinity };
    const middle = Math.ceil(options.cuts / 2);
    const nextCutAt = () => Math.floor(((cuts + 1) * options.count) / (options.cuts + 1));
    const chaos = (): void => {
      while (cuts < options.cuts && done >= nextCutAt()) {
        cuts++;
        if (cuts === middle) {
          const ms = options.outageMs ?? 1500;
          outage.from = Date.now();
          outage.to = outage.from + ms;
          connectionsCut += dispatchProxy.outage(ms) + workerProxy.cut();
          log(`cut ${cuts}: everything, dispatcher refused for ${ms} ms (at ${done} done)`);
        } else {
          connectionsCut += workerProxy.cut() + dispatchProxy.cut();
          log(`cut ${cuts}: every connection (at ${done} done)`);
        }
      }
      const kills = options.kills ?? 1;
      const nextKillAt = Math.floor(((killed + 1) * options.count) / (kills + 1));
      if (killed < kills && done >= nextKillAt && alive.length > 1) {
        killed++;
        const victim = alive.shift()!;
        victim.kill("SIGKILL");
        log(`SIGKILL worker ${killed} of ${kills} (at ${done} done); starting a new one`);
        // A supervisor starts a new worker, as systemd or `dts scale` would.
        respawns.push(startWorker().catch((error) => log(`respawn failed: ${error}`)));
      }
    };
    for await (
      const event of dispatch({
        transport,
        jobs,
        timeoutMs: options.timeoutMs ?? 120_000,
        trackStarted: false,
      })
    ) {
      if (event.type !== "SUCCESS" && event.type !== "FAILURE" && event.type !== "TIMEOUT") {
        continue;
      }
      finals.set(event.id, [...(finals.get(event.id) ?? []), event]);
      done++;
      chaos();
    }
    await Promise.all(respawns);
    const all = [...finals.values()].flat();
    const succeeded = all.filter((e) => e.type === "SUCCESS");
    const runs = new Map<string, number>();
    for (const worker of workers) {
      for (const line of worker.stderr.split("\n")) {
        if (!line.includes('"Task succeeded"')) continue;
        const id = (JSON.parse(line) as { id: string }).id;
        runs.set(id, (runs.get(id) ?? 0) + 1);
      }
    }
    const [queue, dead] = await Promise.all([
      transport.inspectQueue(q),
      transport.inspectQueue(deadLetterQueueName(q)),
    ]);
    return {
      sent: jobs.length,
      succeeded: new Set(succeeded.map((e) => e.id)).size,
      failed: all.filter((e) => e.type === "FAILURE").length,
      lost: jobs.length -
        [...finals.entries()].filter(([, es]) => es.some((e) => e.type !== "TIMEOUT")).length,
      duplicateResults: [...finals.values()].filter((es) => es.length > 1).length,
      ranTwice: [...runs.values()].filter((n) => n > 1).length,
      cuts,
      connectionsCut,
      killed,
      finishedDuringOutage: succeeded.filter((e) => e.at >= outage.from && e.at <= outage.to)
        .length,
      left: { queue: queue?.messages ?? -1, dead: dead?.messages ?? -1 },
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    for (const worker of workers) await worker[Symbol.asyncDispose]();
    await deleteQueues(options.brokerUrl, [q]);
  }
}
