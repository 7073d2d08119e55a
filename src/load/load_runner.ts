/**
 * A load test: send many tasks of one kind with bounded concurrency and an
 * optional rate, and measure publish-to-result latency per task.
 * @module
 */
import { decodeResultMessage } from "../protocol/celery_result_message.ts";
import { createTaskMessage, encodeTaskMessage } from "../protocol/celery_task_message.ts";
import { ensureTaskQueue } from "../transport/ensure_task_queue.ts";
import { closeReplyQueue, openReplyQueue } from "../transport/reply_queue.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { Semaphore } from "../worker/semaphore.ts";
import { type LatencySummary, summarizeLatencies } from "./latency_stats.ts";

/** What to send and how hard. */
export interface LoadOptions {
  /** How the task queue is declared when missing (the workers' `worker.queue_type`). @default classic */
  queueOptions?: TaskQueueOptions;
  transport: Transport;
  task: string;
  queue: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Stop after this many sends. */
  count?: number;
  /** Stop sending after this long. */
  durationMs?: number;
  /** Sends per second; omit for as fast as concurrency allows. */
  rate?: number | null;
  /** Tasks in flight at once. @default 100 */
  concurrency?: number;
  /** A task without a result this long after its send counts as timed out. @default 60_000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called about every 250 ms with progress. */
  onProgress?: (progress: { sent: number; done: number }) => void;
}

/** The outcome of a load test (SPEC `dts load --json`). */
export interface LoadReport {
  task: string;
  sent: number;
  succeeded: number;
  failed: number;
  timed_out: number;
  /** In flight when the load test was stopped (SIGINT, SIGTERM): no result yet, not timed out. */
  interrupted: number;
  duration_s: number;
  throughput_per_s: number;
  latency_ms: LatencySummary;
}

/**
 * Run a load test to the end.
 * @throws {RangeError} when neither count nor duration is given
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const { transport, task, queue } = options;
  if (options.count === undefined && options.durationMs === undefined) {
    throw new RangeError("Cannot run load test: give a count or a duration");
  }
  const concurrency = options.concurrency ?? 100;
  const timeoutMs = options.timeoutMs ?? 60_000;
  await ensureTaskQueue(transport, queue, options.queueOptions);
  const replyQueue = await openReplyQueue(transport, { prefix: "dts.load", timeoutMs });

  const inFlight = new Map<string, { sentAt: number; done: () => void }>();
  const latencies: number[] = [];
  let succeeded = 0;
  let failed = 0;
  let timedOut = 0;
  let interrupted = 0;
  const stopConsuming = new AbortController();
  const consumer = (async () => {
    const deliveries = transport.consume(replyQueue, {
      prefetch: Math.max(100, concurrency * 2),
      signal: stopConsuming.signal,
    });
    for await (const delivery of deliveries) {
      try {
        const result = decodeResultMessage(delivery.body, delivery.props);
        const entry = inFlight.get(result.taskId);
        if (
          entry &&
          (result.status === "SUCCESS" || result.status === "FAILURE" ||
            result.status === "REVOKED")
        ) {
          inFlight.delete(result.taskId);
          latencies.push(performance.now() - entry.sentAt);
          if (result.status === "SUCCESS") succeeded++;
          else failed++;
          entry.done();
        }
      } catch {
        // Not a result: ignore.
      }
      delivery.ack().catch(() => {});
    }
  })();

  const slots = new Semaphore(concurrency);
  const started = performance.now();
  const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
  const limit = options.count ?? Infinity;
  const interval = options.rate ? 1000 / options.rate : 0;
  const reporter = options.onProgress
    ? setInterval(
      () => options.onProgress!({ sent, done: succeeded + failed + timedOut + interrupted }),
      250,
    )
    : undefined;
  let sent = 0;
  const sends: Promise<void>[] = [];
  // Interrupted: stop waiting; what has no result yet counts as interrupted.
  const onAbort = () => {
    for (const [id, entry] of inFlight) {
      inFlight.delete(id);
      interrupted++;
      entry.done();
    }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // One sweeper instead of a timer per task: tasks are sent in order, so the
  // oldest in-flight entries are the first to time out.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [id, entry] of inFlight) {
      if (now - entry.sentAt < timeoutMs) break;
      inFlight.delete(id);
      timedOut++;
      entry.done();
    }
  }, Math.min(1000, Math.max(10, timeoutMs / 10)));
  try {
    while (sent < limit && performance.now() < deadline && !options.signal?.aborted) {
      if (interval > 0) {
        const due = started + sent * interval;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      await slots.acquire();
      if (performance.now() >= deadline || options.signal?.aborted) {
        slots.release();
        break;
      }
      sent++;
      sends.push(sendOne());
    }
    await Promise.all(sends);
  } finally {
    clearInterval(reporter);
    clearInterval(sweeper);
    options.signal?.removeEventListener("abort", onAbort);
    stopConsuming.abort();
    await consumer.catch(() => {});
    await closeReplyQueue(transport, replyQueue);
  }
  const durationS = (performance.now() - started) / 1000;
  return {
    task,
    sent,
    succeeded,
    failed,
    timed_out: timedOut,
    interrupted,
    duration_s: Math.round(durationS * 100) / 100,
    throughput_per_s: Math.round(((succeeded + failed) / durationS) * 10) / 10,
    latency_ms: summarizeLatencies(latencies),
  };

  async function sendOne(): Promise<void> {
    const message = createTaskMessage(task, {
      args: options.args ?? [],
      kwargs: options.kwargs ?? {},
      replyTo: replyQueue,
    });
    const { body, props } = encodeTaskMessage(message);
    const finished = new Promise<void>((resolve) => {
      inFlight.set(message.id, { sentAt: performance.now(), done: resolve });
    });
    try {
      await transport.publish(queue, body, props);
    } catch {
      const entry = inFlight.get(message.id);
      if (entry) {
        inFlight.delete(message.id);
        failed++;
        entry.done();
      }
    }
    await finished;
    slots.release();
  }
}
