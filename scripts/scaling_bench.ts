/**
 * `deno task bench:scaling`: the numbers of docs/SCALING.md, on this machine.
 *
 *   processes  throughput of `dts load` against 1, 2 and 4 `dts worker`
 *              processes (concurrency 1 each, a no-op task a), in alternated
 *              rounds; medians of the rounds.
 *   scale      time to clear a backlog of N tasks of 10 ms: one fixed worker
 *              (concurrency 1) against `dts scale` (min 1, max 8, 20 ready
 *              messages per worker); the most workers `dts scale` ran.
 *
 * Options: --only processes|scale, --count N (default 3000), --backlog N
 * (default 5000), --rounds R (default 3), --broker URL (default
 * DTS_BROKER_URL or amqp://guest:guest@127.0.0.1:5672/).
 * @module
 */
import { parseArgs } from "node:util";
import { dispatch } from "../src/dispatch/dispatcher.ts";
import { openTransport } from "../src/transport/open_transport.ts";
import {
  benchConfig,
  deleteQueue,
  dts,
  loadAgainstWorkers,
  untilConsumers,
} from "./bench/dts_process.ts";
import { median } from "./bench/measure.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    count: { type: "string", default: "3000" },
    backlog: { type: "string", default: "5000" },
    rounds: { type: "string", default: "3" },
    broker: { type: "string" },
  },
});
const broker = values.broker ?? Deno.env.get("DTS_BROKER_URL") ??
  "amqp://guest:guest@127.0.0.1:5672/";
const tag = crypto.randomUUID().slice(0, 8);

/** `dts load` throughput (tasks/s) against `workers` worker processes of concurrency 1. */
async function loadAgainst(workers: number, count: number): Promise<number> {
  const run = await loadAgainstWorkers(broker, { workers, concurrency: 1, count, window: 100 });
  return run.perSecond;
}

/** Send `backlog` tasks of 10 ms at once; resolves to the seconds until the last result. */
async function clearBacklog(queue: string, backlog: number): Promise<number> {
  const transport = await openTransport(broker);
  try {
    const jobs = Array.from({ length: backlog }, () => ({
      task: "task_a",
      queue,
      args: [10],
      kwargs: {},
    }));
    const started = performance.now();
    let finals = 0;
    for await (const event of dispatch({ transport, jobs, timeoutMs: 900_000 })) {
      if (event.type === "SUCCESS") finals++;
      else if (event.type === "FAILURE" || event.type === "TIMEOUT") {
        throw new Error(`a task ended ${event.type}`);
      }
    }
    if (finals !== backlog) throw new Error(`${finals} of ${backlog} results`);
    return (performance.now() - started) / 1000;
  } finally {
    await transport.close();
  }
}

async function fixedWorker(backlog: number): Promise<number> {
  const queue = `bench_${tag}_fixed`;
  await using config = await benchConfig(queue);
  const worker = dts(broker, [
    "worker",
    "--task",
    "a",
    "--config",
    config.path,
    "--concurrency",
    "1",
  ])
    .spawn();
  try {
    await untilConsumers(broker, queue, 1);
    return await clearBacklog(queue, backlog);
  } finally {
    worker.kill("SIGTERM");
    await worker.status;
    await deleteQueue(broker, queue);
  }
}

async function scaledWorkers(backlog: number): Promise<{ seconds: number; peak: number }> {
  const queue = `bench_${tag}_scaled`;
  await using config = await benchConfig(
    queue,
    "scaling:\n  a: { min: 1, max: 8, backlog_per_worker: 20 }\nworker: { concurrency: 1 }\n",
  );
  const scaler = dts(broker, ["scale", "--config", config.path, "--interval", "1s"]).spawn();
  let peak = 0;
  const stop = new AbortController();
  const watching = (async () => {
    const transport = await openTransport(broker);
    while (!stop.signal.aborted) {
      peak = Math.max(peak, (await transport.inspectQueue(queue))?.consumers ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await transport.close();
  })();
  try {
    await untilConsumers(broker, queue, 1);
    return { seconds: await clearBacklog(queue, backlog), peak };
  } finally {
    stop.abort();
    await watching;
    scaler.kill("SIGTERM");
    await scaler.status;
    await deleteQueue(broker, queue);
  }
}

const rounds = Number(values.rounds);
if (values.only === undefined || values.only === "processes") {
  const count = Number(values.count);
  const samples = new Map<number, number[]>([[1, []], [2, []], [4, []]]);
  for (let round = 0; round < rounds; round++) {
    for (const workers of samples.keys()) {
      samples.get(workers)!.push(await loadAgainst(workers, count));
    }
  }
  console.log(
    `dts load --count ${count}, no-op task a, workers of concurrency 1, ${rounds} rounds:`,
  );
  const one = median(samples.get(1)!);
  for (const [workers, xs] of samples) {
    console.log(
      `  ${workers} worker process(es)  ${Math.round(median(xs))} tasks/s  (${
        (median(xs) / one).toFixed(2)
      }x of 1; rounds ${xs.map(Math.round).join(", ")})`,
    );
  }
}
if (values.only === undefined || values.only === "scale") {
  const backlog = Number(values.backlog);
  const fixed = await fixedWorker(backlog);
  const scaled = await scaledWorkers(backlog);
  console.log(`a backlog of ${backlog} tasks of 10 ms:`);
  console.log(`  one fixed worker (concurrency 1)   cleared in ${fixed.toFixed(1)} s`);
  console.log(
    `  dts scale (min 1, max 8)           cleared in ${
      scaled.seconds.toFixed(1)
    } s, at most ${scaled.peak} workers (${(fixed / scaled.seconds).toFixed(1)}x faster)`,
  );
}
