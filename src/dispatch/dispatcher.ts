/**
 * The dispatcher: send jobs concurrently, follow them through their result
 * messages, and yield what happens as `TaskEvent`s. It formats nothing.
 * @module
 */
import { BrokerError, type ErrorInfo } from "../errors.ts";
import { decodeException, decodeResultMessage } from "../protocol/celery_result_message.ts";
import type { ResultMessage } from "../protocol/celery_result_message.ts";
import { createTaskMessage, encodeTaskMessage } from "../protocol/celery_task_message.ts";
import type { TaskEvent } from "../report/task_event.ts";
import { ensureTaskQueue } from "../transport/ensure_task_queue.ts";
import { closeReplyQueue, openReplyQueue } from "../transport/reply_queue.ts";
import type { Delivery, Transport } from "../transport/transport.ts";
import { TRACK_STARTED_HEADER } from "../worker/handle_delivery.ts";
import { EventChannel } from "./event_channel.ts";

/** One task to send. */
export interface DispatchJob {
  task: string;
  queue: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
}

/** How to run a dispatch. */
export interface DispatchOptions {
  transport: Transport;
  jobs: readonly DispatchJob[];
  /** Per task, from its send: no final result by then → TIMEOUT. */
  timeoutMs: number;
  /** Ask workers for STARTED notes (RECEIVED/STARTED events). @default true */
  trackStarted?: boolean;
  /**
   * Aborting (SIGINT, SIGTERM) stops waiting at once: tasks without a final
   * result end as INTERRUPTED. Already aborted: nothing is sent.
   */
  signal?: AbortSignal;
  now?: () => number;
  /** Publish attempts per task across broker hiccups. @default 5 */
  publishAttempts?: number;
}

interface Pending {
  job: DispatchJob;
  sentAt: number;
  retries: number;
  done: boolean;
}

/** Send every job at once and yield each state change until all are final. */
export function dispatch(options: DispatchOptions): AsyncIterable<TaskEvent> {
  const events = new EventChannel<TaskEvent>();
  runDispatch(options, events).then(() => events.close(), (error) => events.close(error));
  return events;
}

async function runDispatch(
  options: DispatchOptions,
  events: EventChannel<TaskEvent>,
): Promise<void> {
  const { transport, jobs, timeoutMs } = options;
  const now = options.now ?? Date.now;
  const pending = new Map<string, Pending>();
  let remaining = jobs.length;
  if (remaining === 0 || options.signal?.aborted) return;

  // Results published while we reconnect wait in the reply queue.
  const replyQueue = await openReplyQueue(transport, { prefix: "dts.reply", timeoutMs });
  for (const queue of new Set(jobs.map((job) => job.queue))) {
    await ensureTaskQueue(transport, queue);
  }

  const finished = Promise.withResolvers<void>();
  const stop = new AbortController();
  const settle = (id: string, event: TaskEvent) => {
    const entry = pending.get(id);
    if (!entry || entry.done) return;
    entry.done = true;
    events.push(event);
    if (--remaining === 0) finished.resolve();
  };

  const consumer = (async () => {
    const deliveries = transport.consume(replyQueue, { prefetch: 1000, signal: stop.signal });
    for await (const delivery of deliveries) {
      onResult(delivery, pending, events, settle);
      await delivery.ack().catch(() => {});
    }
  })();

  const onAbort = () => finished.resolve();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const ticker = setInterval(() => {
    const t = now();
    for (const [id, entry] of pending) {
      if (!entry.done && t - entry.sentAt >= timeoutMs) timeOut(id, entry, t, settle, timeoutMs);
    }
  }, Math.max(10, Math.min(100, timeoutMs / 4)));

  try {
    await Promise.all(jobs.map(async (job) => {
      const message = createTaskMessage(job.task, {
        args: job.args,
        kwargs: job.kwargs,
        replyTo: replyQueue,
        headers: options.trackStarted === false ? {} : { [TRACK_STARTED_HEADER]: true },
      });
      const entry: Pending = { job, sentAt: now(), retries: 0, done: false };
      pending.set(message.id, entry);
      events.push({
        type: "SENT",
        id: message.id,
        task: job.task,
        queue: job.queue,
        at: entry.sentAt,
      });
      const { body, props } = encodeTaskMessage(message);
      try {
        await publishWithRetry(transport, job.queue, body, props, options.publishAttempts ?? 5);
      } catch (error) {
        settle(message.id, {
          type: "FAILURE",
          id: message.id,
          task: job.task,
          queue: job.queue,
          at: now(),
          error: { type: "PublishError", message: (error as Error).message },
          runtimeMs: null,
          worker: null,
          retries: 0,
        });
      }
    }));
    await finished.promise;
    const t = now();
    for (const [id, entry] of pending) {
      if (entry.done) continue;
      if (options.signal?.aborted) interrupt(id, entry, t, settle, options.signal.reason);
      else timeOut(id, entry, t, settle, timeoutMs);
    }
  } finally {
    clearInterval(ticker);
    options.signal?.removeEventListener("abort", onAbort);
    stop.abort();
    await consumer.catch(() => {});
    await closeReplyQueue(transport, replyQueue);
  }
}

function timeOut(
  id: string,
  entry: Pending,
  at: number,
  settle: (id: string, event: TaskEvent) => void,
  timeoutMs: number,
): void {
  settle(id, {
    type: "TIMEOUT",
    id,
    task: entry.job.task,
    queue: entry.job.queue,
    at,
    error: { type: "TimeoutError", message: `No result within ${timeoutMs} ms` },
    retries: entry.retries,
  });
}

function interrupt(
  id: string,
  entry: Pending,
  at: number,
  settle: (id: string, event: TaskEvent) => void,
  reason: unknown,
): void {
  const by = typeof reason === "string" && reason !== "" ? reason : "a signal";
  settle(id, {
    type: "INTERRUPTED",
    id,
    task: entry.job.task,
    queue: entry.job.queue,
    at,
    error: {
      type: "InterruptedError",
      message: `dispatch interrupted by ${by} before a result arrived`,
    },
    retries: entry.retries,
  });
}

async function publishWithRetry(
  transport: Transport,
  queue: string,
  body: Uint8Array,
  props: Parameters<Transport["publish"]>[2],
  attempts: number,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await transport.publish(queue, body, props);
    } catch (error) {
      const recoverable = error instanceof BrokerError && error.recoverable;
      if (!recoverable || attempt >= attempts) throw error;
      // A publish cut off by a dropped connection may or may not have landed;
      // sending again risks a duplicate (workers are at-least-once anyway),
      // not sending risks a loss. The dispatcher keeps the first result.
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

function onResult(
  delivery: Delivery,
  pending: Map<string, Pending>,
  events: EventChannel<TaskEvent>,
  settle: (id: string, event: TaskEvent) => void,
): void {
  let result: ResultMessage;
  try {
    result = decodeResultMessage(delivery.body, delivery.props);
  } catch {
    return; // Not a result message: nothing to follow.
  }
  const entry = pending.get(result.taskId);
  if (!entry || entry.done) return; // Unknown, or a duplicate after redelivery.
  const base = { id: result.taskId, task: entry.job.task, queue: entry.job.queue };
  const at = Date.parse(result.dateDone ?? "") || Date.now();
  const worker = result.worker ?? startedHostname(result);
  switch (result.status) {
    case "STARTED": {
      const received = Date.parse(result.receivedAt ?? "") || at;
      const started = Date.parse(result.startedAt ?? "") || at;
      events.push({ ...base, type: "RECEIVED", at: received, worker: worker ?? "?" });
      events.push({ ...base, type: "STARTED", at: started, worker: worker ?? "?" });
      return;
    }
    case "RETRY": {
      entry.retries = (result.retries ?? entry.retries) + 1;
      events.push({
        ...base,
        type: "RETRY",
        at,
        retries: entry.retries,
        delayMs: result.delayMs ?? null,
        error: errorOf(result),
      });
      return;
    }
    case "SUCCESS":
      settle(result.taskId, {
        ...base,
        type: "SUCCESS",
        at,
        result: result.result,
        runtimeMs: result.runtimeMs ?? null,
        worker,
        retries: result.retries ?? entry.retries,
      });
      return;
    case "FAILURE":
    case "REVOKED":
      settle(result.taskId, {
        ...base,
        type: "FAILURE",
        at,
        error: errorOf(result),
        runtimeMs: result.runtimeMs ?? null,
        worker,
        retries: result.retries ?? entry.retries,
      });
      return;
    default:
      return;
  }
}

/** Celery's own STARTED result is `{pid, hostname}` and its results carry no `worker`: take the name from there. */
function startedHostname(result: ResultMessage): string | null {
  if (result.status !== "STARTED") return null;
  const hostname = (result.result as { hostname?: unknown } | null)?.hostname;
  return typeof hostname === "string" ? hostname : null;
}

function errorOf(result: ResultMessage): ErrorInfo | null {
  if (result.result === null || result.result === undefined) return null;
  const info = decodeException(result.result);
  return result.traceback ? { ...info, stack: result.traceback } : info;
}
