/**
 * `deno task bench`: dts against the raw amqplib ceiling, in one run on the
 * same broker, so the numbers compare as ratios.
 *
 *   1. raw amqplib: publish (confirmed, persistent) → consume → publish reply
 *      (confirmed) → ack → reply consumed, with the same in-flight window;
 *   2. dts in-process: `runLoad` against a `Worker` running a no-op task;
 *   3. dts as users run it: a spawned `dts worker` process, and `dts load`;
 *   4. the seed dispatch's overhead and the worker's cold start.
 *
 * Options: --count N (default 5000) --concurrency C (default 100)
 * --broker URL (default DTS_BROKER_URL or amqp://guest:guest@127.0.0.1:5672/).
 */
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { runLoad } from "../src/load/load_runner.ts";
import { currentProgram, dtsCommandLine } from "../src/program_location.ts";
import { silentLogger } from "../src/log/logger.ts";
import { DEFAULT_RETRY_SETTINGS } from "../src/plugin/task_plugin.ts";
import { openTransport } from "../src/transport/open_transport.ts";
import { Worker } from "../src/worker/worker.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "100" },
    broker: { type: "string" },
  },
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const broker = values.broker ?? Deno.env.get("DTS_BROKER_URL") ??
  "amqp://guest:guest@127.0.0.1:5672/";
const root = new URL("../", import.meta.url).pathname;
const tag = crypto.randomUUID().slice(0, 8);

async function rawAmqplib(): Promise<number> {
  const queue = `bench_${tag}_raw`;
  const replies = `bench_${tag}_raw_reply`;
  const socket = { noDelay: true };
  const client = await amqp.connect(broker, socket);
  const server = await amqp.connect(broker, socket);
  try {
    const clientPub = await client.createConfirmChannel();
    const clientSub = await client.createChannel();
    const serverSub = await server.createChannel();
    const serverPub = await server.createConfirmChannel();
    await clientPub.assertQueue(queue, { durable: true });
    await clientPub.assertQueue(replies, { durable: true });
    await serverSub.prefetch(concurrency);
    await serverSub.consume(queue, (msg) => {
      if (!msg) return;
      serverPub.sendToQueue(replies, Buffer.from('{"status":"SUCCESS"}'), {
        persistent: true,
        correlationId: msg.properties.correlationId,
      }, (err) => {
        if (!err) serverSub.ack(msg);
      });
    });
    let done = 0;
    let sent = 0;
    const finished = Promise.withResolvers<void>();
    const body = Buffer.from(JSON.stringify([[], {}, {}]));
    const sendOne = () => {
      const id = String(sent++);
      clientPub.sendToQueue(queue, body, { persistent: true, correlationId: id, replyTo: replies });
    };
    await clientSub.consume(replies, (msg) => {
      if (!msg) return;
      clientSub.ack(msg);
      done++;
      if (done === count) finished.resolve();
      else if (sent < count) sendOne();
    });
    const started = performance.now();
    for (let i = 0; i < Math.min(concurrency, count); i++) sendOne();
    await finished.promise;
    const seconds = (performance.now() - started) / 1000;
    await clientPub.deleteQueue(queue);
    await clientPub.deleteQueue(replies);
    return count / seconds;
  } finally {
    await client.close();
    await server.close();
  }
}

async function dtsInProcess(): Promise<number> {
  const queue = `bench_${tag}_dts`;
  const workerTransport = await openTransport(broker);
  const clientTransport = await openTransport(broker);
  const worker = new Worker({
    transport: workerTransport,
    tasks: [{
      name: "bench_noop",
      queue,
      retry: DEFAULT_RETRY_SETTINGS,
      timeoutMs: null,
      run: () => null,
      source: "bench",
    }],
    name: "bench@local",
    concurrency,
    logger: silentLogger,
  });
  try {
    await worker.start();
    const report = await runLoad({
      transport: clientTransport,
      task: "bench_noop",
      queue,
      count,
      concurrency,
    });
    if (report.succeeded !== count) throw new Error(`dts in-process: ${JSON.stringify(report)}`);
    return report.throughput_per_s;
  } finally {
    await worker.stop({ drainTimeoutMs: 1000 });
    await clientTransport.deleteQueue(queue).catch(() => {});
    await clientTransport.deleteQueue(`${queue}.dead`).catch(() => {});
    await workerTransport.close();
    await clientTransport.close();
  }
}

/** A dts process; a worker's logs are discarded (an unread pipe would fill and stall it). */
function dts(args: string[], env: Record<string, string> = {}, quiet = false): Deno.Command {
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
    stdout: quiet ? "null" : "piped",
    stderr: quiet ? "null" : "piped",
  });
}

async function dtsProcesses(): Promise<{ throughput: number; coldStartMs: number }> {
  const queue = `bench_${tag}_proc`;
  const config = await Deno.makeTempFile({ suffix: ".yml" });
  await Deno.writeTextFile(
    config,
    `name: bench\ntasks:\n  ok: { name: task_ok, queue: ${queue} }\nworker: { concurrency: ${concurrency} }\n`,
  );
  // Cold start: from spawn to the first task's result at a waiting client.
  const startedAt = performance.now();
  const worker = dts(
    [
      "worker",
      "--task",
      "ok",
      "--config",
      config,
      "--plugins",
      "tests/fixtures/plugins/good",
    ],
    {},
    true,
  ).spawn();
  try {
    const first = await dts([
      "load",
      "--task",
      "ok",
      "--count",
      "1",
      "--json",
      "--config",
      config,
      "--plugins",
      "tests/fixtures/plugins/good",
    ]).output();
    const coldStartMs = performance.now() - startedAt;
    if (first.code !== 0) throw new Error(new TextDecoder().decode(first.stderr));
    const run = await dts([
      "load",
      "--task",
      "ok",
      "--count",
      String(count),
      "--concurrency",
      String(concurrency),
      "--json",
      "--config",
      config,
      "--plugins",
      "tests/fixtures/plugins/good",
    ]).output();
    if (run.code !== 0) throw new Error(new TextDecoder().decode(run.stderr));
    const report = JSON.parse(new TextDecoder().decode(run.stdout));
    return { throughput: report.throughput_per_s, coldStartMs };
  } finally {
    worker.kill("SIGTERM");
    await worker.status;
    const t = await openTransport(broker);
    await t.deleteQueue(queue).catch(() => {});
    await t.deleteQueue(`${queue}.dead`).catch(() => {});
    await t.close();
    await Deno.remove(config);
  }
}

async function seedOverhead(): Promise<{ overheadMs: number; totalMs: number }> {
  const ns = `bench_${tag}`;
  const config = await Deno.makeTempFile({ suffix: ".yml" });
  await Deno.writeTextFile(
    config,
    `name: seed\ntasks:\n  a: { name: task_a, queue: ${ns}_queue_a }\n  b: { name: task_b, queue: ${ns}_queue_b }\n` +
      `dispatch:\n  timeout: 30s\n  jobs: [ { task: a }, { task: b } ]\n`,
  );
  const a = dts(["worker", "--task", "a", "--config", config], {}, true).spawn();
  const b = dts(["worker", "--task", "b", "--config", config], {}, true).spawn();
  try {
    // Warm-up dispatch (workers connect), then the measured ones.
    const overheads: number[] = [];
    let total = 0;
    for (let i = 0; i < 6; i++) {
      const out = await dts(["dispatch", "--config", config, "--output", "json", "--no-save"])
        .output();
      if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
      const doc = JSON.parse(new TextDecoder().decode(out.stdout));
      if (i === 0) continue;
      const slowest = Math.max(...doc.tasks.map((t: { runtime_ms: number }) => t.runtime_ms));
      overheads.push(doc.total_ms - slowest);
      total += doc.total_ms;
    }
    overheads.sort((x, y) => x - y);
    return {
      overheadMs: overheads[Math.floor(overheads.length / 2)],
      totalMs: total / overheads.length,
    };
  } finally {
    a.kill("SIGTERM");
    b.kill("SIGTERM");
    await Promise.all([a.status, b.status]);
    const t = await openTransport(broker);
    for (const q of ["queue_a", "queue_b"]) {
      await t.deleteQueue(`${ns}_${q}`).catch(() => {});
      await t.deleteQueue(`${ns}_${q}.dead`).catch(() => {});
    }
    await t.close();
    await Deno.remove(config);
  }
}

const fmt = (n: number) => n.toFixed(0).padStart(7);
console.log(
  `dts bench: ${count} tasks, ${concurrency} in flight, broker ${
    broker.replace(/:[^:@/]*@/, ":***@")
  }`,
);
const raw = await rawAmqplib();
console.log(`raw amqplib publish→consume→reply   ${fmt(raw)} tasks/s   (ceiling, 1.00)`);
const inProcess = await dtsInProcess();
console.log(
  `dts in-process worker + load        ${fmt(inProcess)} tasks/s   ${
    (inProcess / raw).toFixed(2)
  } of ceiling`,
);
const processes = await dtsProcesses();
console.log(
  `dts worker process + dts load       ${fmt(processes.throughput)} tasks/s   ${
    (processes.throughput / raw).toFixed(2)
  } of ceiling`,
);
console.log(`dts worker cold start → 1st result  ${fmt(processes.coldStartMs)} ms`);
const seed = await seedOverhead();
console.log(
  `seed dispatch overhead (total − slowest task, median of 5)  ${
    seed.overheadMs.toFixed(1)
  } ms  (total ${seed.totalMs.toFixed(1)} ms)`,
);
