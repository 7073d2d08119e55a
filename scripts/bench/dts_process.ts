/**
 * dts as users run it: `dts worker` processes of the built-in no-op-able
 * task a (args `[0]`: no simulated work) and `dts load` against them, each
 * on a queue of its own. Logs are discarded: an unread pipe would stall a
 * worker.
 * @module
 */
import { currentProgram, dtsCommandLine } from "../../src/program_location.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { rssMb, type Throughput } from "./measure.ts";

const root = new URL("../../", import.meta.url).pathname;

/** A dts process on `broker`. */
export function dts(
  broker: string,
  args: string[],
  output: "piped" | "null" = "null",
  env: Record<string, string> = {},
): Deno.Command {
  const line = dtsCommandLine(currentProgram(), args);
  return new Deno.Command(line.command, {
    args: line.args,
    env: {
      DTS_BROKER_URL: broker,
      DTS_HEALTH_PORT: "0",
      NO_COLOR: "1",
      DTS_LOG_FORMAT: "json",
      ...env,
    },
    cwd: root,
    stdin: "null",
    stdout: output,
    stderr: output,
  });
}

/** A config naming task a on `queue`, so nothing else consumes it; deleted on dispose. */
export async function benchConfig(
  queue: string,
  extra = "",
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempFile({ suffix: ".yml" });
  await Deno.writeTextFile(path, `name: bench\ntasks:\n  a: { queue: ${queue} }\n${extra}`);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path).catch(() => {}) };
}

/** Delete a bench queue and its dead letters. */
export async function deleteQueue(broker: string, queue: string): Promise<void> {
  const transport = await openTransport(broker);
  await transport.deleteQueue(queue).catch(() => {});
  await transport.deleteQueue(deadLetterQueueName(queue)).catch(() => {});
  await transport.close();
}

/** Wait until `queue` has `consumers` consumers. */
export async function untilConsumers(broker: string, queue: string, consumers: number) {
  const transport = await openTransport(broker);
  try {
    for (let i = 0; i < 1200; i++) {
      if (((await transport.inspectQueue(queue))?.consumers ?? 0) >= consumers) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${consumers} consumers of ${queue} never showed up`);
  } finally {
    await transport.close();
  }
}

/** What one `dts load` run against worker processes measured. */
export interface ProcessRun extends Throughput {
  /** Round trip percentiles `dts load` reports. */
  p50Ms: number;
  p99Ms: number;
  /** The first worker's memory before the load and at most during it. */
  rss: { idleMb: number; loadedMb: number };
}

/** `dts load --count N --concurrency W` against `workers` worker processes of concurrency C. */
export async function loadAgainstWorkers(
  broker: string,
  options: {
    workers: number;
    concurrency: number;
    count: number;
    window: number;
    /** More config lines, e.g. a `worker:` section. */
    config?: string;
    /** More environment for the worker and load processes, e.g. to turn tracing on. */
    env?: Record<string, string>;
  },
): Promise<ProcessRun> {
  const queue = `bench_${crypto.randomUUID().slice(0, 8)}_proc`;
  await using config = await benchConfig(queue, options.config);
  const children = Array.from({ length: options.workers }, () =>
    dts(
      broker,
      [
        ...["worker", "--task", "a", "--config", config.path],
        ...["--concurrency", String(options.concurrency)],
      ],
      "null",
      options.env,
    ).spawn());
  let sampling = true;
  const rss = { idleMb: 0, loadedMb: 0 };
  try {
    await untilConsumers(broker, queue, options.workers);
    // Idle: started, connected, nothing run yet.
    await new Promise((resolve) => setTimeout(resolve, 500));
    rss.idleMb = await rssMb(children[0].pid);
    const sampler = (async () => {
      while (sampling) {
        rss.loadedMb = Math.max(rss.loadedMb, await rssMb(children[0].pid).catch(() => 0));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const run = await dts(
      broker,
      [
        ...["load", "--task", "a", "--count", String(options.count), "--args", "[0]"],
        ...["--concurrency", String(options.window), "--json", "--config", config.path],
      ],
      "piped",
      options.env,
    ).output();
    sampling = false;
    await sampler;
    if (run.code !== 0) throw new Error(new TextDecoder().decode(run.stderr));
    const report = JSON.parse(new TextDecoder().decode(run.stdout));
    if (report.succeeded !== options.count) throw new Error(`dts load: ${JSON.stringify(report)}`);
    return { perSecond: report.throughput_per_s, rss, ...latency(report) };
  } finally {
    sampling = false;
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((child) => child.status));
    await deleteQueue(broker, queue);
  }
}

/** `dts load --json` reports percentiles, not every round trip. */
function latency(report: { latency_ms?: { p50: number; p99: number } }) {
  return { p50Ms: report.latency_ms?.p50 ?? NaN, p99Ms: report.latency_ms?.p99 ?? NaN };
}
