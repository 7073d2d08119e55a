/**
 * What `dts dispatch` adds to the seed scenario (tasks a and b, 100 and
 * 200 ms): the run's total minus its slowest task, median of 5 runs after a
 * warm-up, with a worker per task already running.
 * @module
 */
import { benchConfig, deleteQueue, dts, untilConsumers } from "./dts_process.ts";
import { median } from "./measure.ts";

export async function seedOverhead(
  broker: string,
): Promise<{ overheadMs: number; totalMs: number }> {
  const ns = `bench_${crypto.randomUUID().slice(0, 8)}`;
  const [qa, qb] = [`${ns}_queue_a`, `${ns}_queue_b`];
  await using config = await benchConfig(
    qa,
    `  b: { name: task_b, queue: ${qb} }\ndispatch:\n  timeout: 30s\n  jobs: [ { task: a }, { task: b } ]\n`,
  );
  const workers = ["a", "b"].map((task) =>
    dts(broker, ["worker", "--task", task, "--config", config.path]).spawn()
  );
  try {
    await untilConsumers(broker, qa, 1);
    await untilConsumers(broker, qb, 1);
    const overheads: number[] = [];
    const totals: number[] = [];
    for (let i = 0; i < 6; i++) {
      const out = await dts(
        broker,
        ["dispatch", "--config", config.path, "--output", "json", "--no-save"],
        "piped",
      ).output();
      if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
      if (i === 0) continue; // warm-up
      const doc = JSON.parse(new TextDecoder().decode(out.stdout));
      const slowest = Math.max(...doc.tasks.map((t: { runtime_ms: number }) => t.runtime_ms));
      overheads.push(doc.total_ms - slowest);
      totals.push(doc.total_ms);
    }
    return { overheadMs: median(overheads), totalMs: median(totals) };
  } finally {
    for (const worker of workers) worker.kill("SIGTERM");
    await Promise.all(workers.map((worker) => worker.status));
    await deleteQueue(broker, qa);
    await deleteQueue(broker, qb);
  }
}
