/**
 * dts without process boundaries: a `Worker` (attempts run inline) and
 * `runLoad` in this process, each on its own connection. What the library
 * costs, apart from plugin hosts and a second process. With `events`, the
 * worker sends Celery events, the load sends task-sent, and one subscriber
 * (a monitor, as Flower is) takes them all: what turning events on costs.
 * @module
 */
import { openSenderEvents } from "../../src/events/sender_events.ts";
import { subscribeEvents } from "../../src/events/event_stream.ts";
import { runLoad } from "../../src/load/load_runner.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { DEFAULT_RETRY_SETTINGS } from "../../src/plugin/task_plugin.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueue } from "./dts_process.ts";
import type { Throughput } from "./measure.ts";

export async function dtsInProcess(
  broker: string,
  load: { count: number; window: number },
  options: { events?: boolean } = {},
): Promise<Throughput> {
  const events = options.events ?? false;
  const queue = `bench_${crypto.randomUUID().slice(0, 8)}_dts`;
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
    concurrency: load.window,
    logger: silentLogger,
    events,
  });
  const monitor = events ? await subscribeEvents(clientTransport, () => {}) : null;
  try {
    await worker.start();
    const report = await runLoad({
      transport: clientTransport,
      task: "bench_noop",
      queue,
      count: load.count,
      concurrency: load.window,
      sentEvents: await openSenderEvents(clientTransport, events),
    });
    if (report.succeeded !== load.count) throw new Error(`in-process: ${JSON.stringify(report)}`);
    return { perSecond: report.throughput_per_s };
  } finally {
    await worker.stop({ drainTimeoutMs: 1000 });
    await monitor?.close();
    await workerTransport.close();
    await clientTransport.close();
    await deleteQueue(broker, queue);
  }
}
