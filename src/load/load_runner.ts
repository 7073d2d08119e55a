/**
 * A load test: send many tasks of one kind with bounded concurrency and an
 * optional rate, and measure publish-to-result latency per task.
 * @module
 */
import type { EventEmitter } from "../events/event_emitter.ts";
import { Deadlines } from "../client/deadlines.ts";
import { ReplyInbox } from "../client/reply_inbox.ts";
import { closeReplyQueue, openReplyQueue } from "../client/reply_queue.ts";
import { TaskSender } from "../client/send_task.ts";
import { type Clock, systemClock } from "../clock.ts";
import { decodeResultMessage } from "../protocol/celery_result_message.ts";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import { Semaphore } from "../semaphore.ts";
import type { Delivery, TaskQueueOptions, Transport } from "../transport/transport.ts";
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
  /** AMQP priority of every message. @default 0 */
  priority?: number;
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
  /** Timers, pacing and deadlines. @default systemClock */
  clock?: Clock;
  /** Told of each task that got its result: when (epoch ms), its latency, whether it succeeded (the report's charts). */
  onResult?: (sample: { atMs: number; latencyMs: number; ok: boolean }) => void;
  /** Send Celery's `task-sent` event for each task (`dts load --events`). @default none */
  sentEvents?: EventEmitter | null;
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
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? 100;
  const timeoutMs = options.timeoutMs ?? 60_000;
  // One try per send: a publish that fails counts as failed, as a load test should show.
  const sender = new TaskSender({
    transport,
    queueOptions: options.queueOptions,
    attempts: 1,
    clock,
    sentEvents: options.sentEvents,
  });
  await sender.prepare(queue);
  const replyQueue = await openReplyQueue(transport, {
    prefix: "dts.load",
    timeoutMs,
    type: options.queueOptions?.type,
  });
  const tally = new LoadTally(options.onResult);
  const inbox = new ReplyInbox({
    transport,
    name: replyQueue,
    prefetch: Math.max(100, concurrency * 2),
    clock,
    onReply: (delivery) => tally.reply(delivery),
  });
  const deadlines = new Deadlines<string>(
    clock,
    Math.min(1000, Math.max(10, timeoutMs / 10)),
    (id) => tally.end(id, "timed out"),
  );
  // Interrupted: stop waiting; what has no result yet counts as interrupted.
  const onAbort = () => tally.endAll("interrupted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const progress = new AbortController();
  if (options.onProgress) void reportProgress(options.onProgress, tally, clock, progress.signal);
  inbox.start();
  const started = performance.now();
  try {
    await sendAll(options, { sender, replyQueue, tally, deadlines, clock, concurrency, timeoutMs });
  } finally {
    progress.abort();
    deadlines.close();
    options.signal?.removeEventListener("abort", onAbort);
    await inbox.stop();
    await closeReplyQueue(transport, replyQueue);
  }
  const durationS = (performance.now() - started) / 1000;
  return {
    task,
    sent: tally.sent,
    succeeded: tally.succeeded,
    failed: tally.failed,
    timed_out: tally.timedOut,
    interrupted: tally.interrupted,
    duration_s: Math.round(durationS * 100) / 100,
    throughput_per_s: Math.round(((tally.succeeded + tally.failed) / durationS) * 10) / 10,
    latency_ms: summarizeLatencies(tally.latencies),
  };
}

/** What a run needs to send. */
interface Sending {
  sender: TaskSender;
  replyQueue: string;
  tally: LoadTally;
  deadlines: Deadlines<string>;
  clock: Clock;
  concurrency: number;
  timeoutMs: number;
}

/** Send until the count, the duration or an interrupt, at most `concurrency` in flight, paced by `rate`. */
async function sendAll(options: LoadOptions, run: Sending): Promise<void> {
  const slots = new Semaphore(run.concurrency);
  const started = run.clock.now();
  const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
  const limit = options.count ?? Infinity;
  const interval = options.rate ? 1000 / options.rate : 0;
  const stopped = () => run.clock.now() >= deadline || (options.signal?.aborted ?? false);
  const sends: Promise<void>[] = [];
  while (run.tally.sent < limit && !stopped()) {
    if (interval > 0) {
      const wait = started + run.tally.sent * interval - run.clock.now();
      if (wait > 1) await run.clock.sleep(wait);
    }
    await slots.acquire();
    if (stopped()) {
      slots.release();
      break;
    }
    sends.push(sendOne(options, run).finally(() => slots.release()));
  }
  await Promise.all(sends);
}

/** Send one task and wait until it ends: result, timeout, failed publish or interrupt. */
async function sendOne(options: LoadOptions, run: Sending): Promise<void> {
  const message = createTaskMessage(options.task, {
    args: options.args ?? [],
    kwargs: options.kwargs ?? {},
    replyTo: run.replyQueue,
    priority: options.priority,
  });
  const finished = run.tally.start(message.id);
  run.deadlines.add(message.id, run.clock.now() + run.timeoutMs);
  try {
    await run.sender.send(options.queue, message);
  } catch {
    run.tally.end(message.id, "failed");
  }
  await finished;
  run.deadlines.remove(message.id);
}

async function reportProgress(
  onProgress: NonNullable<LoadOptions["onProgress"]>,
  tally: LoadTally,
  clock: Clock,
  signal: AbortSignal,
): Promise<void> {
  try {
    for (;;) {
      await clock.sleep(250, signal);
      onProgress({ sent: tally.sent, done: tally.done });
    }
  } catch {
    // stopped
  }
}

/** Counts and latencies of a load test; each task ends once. */
class LoadTally {
  sent = 0;
  succeeded = 0;
  failed = 0;
  timedOut = 0;
  interrupted = 0;
  readonly latencies: number[] = [];
  readonly #inFlight = new Map<string, { sentAt: number; done: () => void }>();
  readonly #onResult: LoadOptions["onResult"];

  constructor(onResult?: LoadOptions["onResult"]) {
    this.#onResult = onResult;
  }

  get done(): number {
    return this.succeeded + this.failed + this.timedOut + this.interrupted;
  }

  /** A task is about to be sent; resolves when it ends. */
  start(id: string): Promise<void> {
    this.sent++;
    return new Promise((resolve) =>
      this.#inFlight.set(id, { sentAt: performance.now(), done: resolve })
    );
  }

  /** A reply: a final state ends its task, with its latency. */
  reply(delivery: Delivery): void {
    let result: ReturnType<typeof decodeResultMessage>;
    try {
      result = decodeResultMessage(delivery.body, delivery.props);
    } catch {
      return; // Not a result: ignore.
    }
    const entry = this.#inFlight.get(result.taskId);
    if (!entry || !FINAL.has(result.status)) return;
    const latencyMs = performance.now() - entry.sentAt;
    this.latencies.push(latencyMs);
    this.#onResult?.({ atMs: Date.now(), latencyMs, ok: result.status === "SUCCESS" });
    this.end(result.taskId, result.status === "SUCCESS" ? "succeeded" : "failed");
  }

  /** End a task in flight, once. */
  end(id: string, how: "succeeded" | "failed" | "timed out" | "interrupted"): void {
    const entry = this.#inFlight.get(id);
    if (!entry) return;
    this.#inFlight.delete(id);
    if (how === "succeeded") this.succeeded++;
    else if (how === "failed") this.failed++;
    else if (how === "timed out") this.timedOut++;
    else this.interrupted++;
    entry.done();
  }

  /** End every task in flight. */
  endAll(how: "interrupted"): void {
    for (const id of [...this.#inFlight.keys()]) this.end(id, how);
  }
}

const FINAL = new Set(["SUCCESS", "FAILURE", "REVOKED"]);
