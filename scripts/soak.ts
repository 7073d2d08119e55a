/**
 * `deno task soak`: one `dts worker` process runs 100,000 no-op tasks sent in
 * batches by an in-process sender; its resident memory is sampled all along.
 * Reports RSS after the warm-up (the first tenth) and at the end, the
 * growth between them, and how many tasks did not come back (must be 0).
 *
 * Options: --count N (100000) --batch B (10000) --window W (100)
 * --concurrency C (the worker's, 100) --broker URL
 * @module
 */
import { parseArgs } from "node:util";
import { runLoad } from "../src/load/load_runner.ts";
import { openTransport } from "../src/transport/open_transport.ts";
import { benchConfig, deleteQueue, dts, untilConsumers } from "./bench/dts_process.ts";
import { rssMb } from "./bench/measure.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "100000" },
    batch: { type: "string", default: "10000" },
    window: { type: "string", default: "100" },
    concurrency: { type: "string", default: "100" },
    broker: { type: "string" },
  },
});
const count = Number(values.count);
const batch = Math.min(Number(values.batch), count);
const broker = values.broker ?? Deno.env.get("DTS_BROKER_URL") ??
  "amqp://guest:guest@127.0.0.1:5672/";

const queue = `soak_${crypto.randomUUID().slice(0, 8)}`;
await using config = await benchConfig(queue);
const worker = dts(broker, [
  ...["worker", "--task", "a", "--config", config.path],
  ...["--concurrency", values.concurrency],
]).spawn();
const transport = await openTransport(broker);
try {
  await untilConsumers(broker, queue, 1);
  const started = performance.now();
  const samples: { done: number; mb: number }[] = [{ done: 0, mb: await rssMb(worker.pid) }];
  let done = 0;
  let succeeded = 0;
  while (done < count) {
    const n = Math.min(batch, count - done);
    const report = await runLoad({
      transport,
      task: "task_a",
      queue,
      count: n,
      concurrency: Number(values.window),
      args: [0],
    });
    done += n;
    succeeded += report.succeeded;
    samples.push({ done, mb: await rssMb(worker.pid) });
    console.error(
      `soak: ${done}/${count} sent, ${succeeded} succeeded, worker RSS ${
        samples.at(-1)!.mb.toFixed(1)
      } MB, ${Math.round(report.throughput_per_s)} tasks/s`,
    );
  }
  const warm = samples.find((s) => s.done >= count / 10)!;
  const end = samples.at(-1)!;
  const growth = (end.mb - warm.mb) / warm.mb;
  console.log(
    `deno task soak ${Deno.args.join(" ")}`.trim() +
      `: ${count} tasks in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
      `worker RSS ${samples[0].mb.toFixed(1)} MB idle, ${
        warm.mb.toFixed(1)
      } MB after ${warm.done}, ` +
      `${end.mb.toFixed(1)} MB at the end (${(growth * 100).toFixed(1)}% growth after warm-up); ` +
      `${count - succeeded} not succeeded`,
  );
  if (succeeded !== count) Deno.exitCode = 1;
} finally {
  worker.kill("SIGTERM");
  await worker.status;
  await transport.close();
  await deleteQueue(broker, queue);
}
