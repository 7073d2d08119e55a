/**
 * What a worker does with one delivery from a task queue: decode, run,
 * record the outcome, settle. The order of the last two is the point of
 * this file.
 * @module
 */
import type { AttemptRunner } from "../attempt/attempt_runner.ts";
import { ProtocolError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { TaskDefinition } from "../plugin/task_plugin.ts";
import { encodeException } from "../protocol/celery_result_message.ts";
import {
  decodeTaskMessage,
  encodeTaskMessage,
  retryTaskMessage,
  type TaskMessage,
} from "../protocol/celery_task_message.ts";
import type { RetryPolicy } from "../retry/retry_policy.ts";
import { type Delivery, MAX_DELAY_MS, type Transport } from "../transport/transport.ts";
import type { WorkerMetrics } from "./metrics.ts";
import { publishFinal, publishMalformed, publishResult } from "./result_publisher.ts";
import { withTimeLimit } from "./time_limit.ts";

/** A task being worked on, for `inspect active`. */
export interface ActiveTask {
  id: string;
  name: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  retries: number;
  queue: string;
  startedAt: number;
}

/** Everything a delivery handler needs, passed in by the worker. */
export interface DeliveryHandlerDeps {
  transport: Transport;
  /** The tasks this worker runs, by task name. */
  tasks: ReadonlyMap<string, { task: TaskDefinition; policy: RetryPolicy }>;
  workerName: string;
  logger: Logger;
  metrics: WorkerMetrics;
  maxMessageBytes: number;
  /** Aborts when the worker stops for good: running attempts end and their messages are requeued. */
  stopSignal: AbortSignal;
  active: Map<string, ActiveTask>;
  /** Runs the plugins: in hosts for `dts worker`, inline in tests. */
  runner: AttemptRunner;
  now(): number;
}

/** Header the dispatcher sets to ask for a STARTED state message (Celery's `track_started`). */
export const TRACK_STARTED_HEADER = "dts_track_started";

/** Celery's own classes for these states, so `except TaskRevokedError:` works in a Celery client. */
const CELERY_EXCEPTIONS = "celery.exceptions";

/** An eta this close counts as now: the broker-held delay rounds to 2 significant digits. */
const ETA_SLACK_MS = 25;

/** Handle one delivery to the end; never throws (errors are logged and the message is left to redelivery). */
export async function handleDelivery(delivery: Delivery, deps: DeliveryHandlerDeps): Promise<void> {
  try {
    await processDelivery(delivery, deps);
  } catch (error) {
    // The outcome could not be recorded (broker gone mid-way). The message is
    // unsettled, so the broker redelivers it: at-least-once, never lost.
    deps.logger.error("Cannot settle a message; the broker will redeliver it", {
      queue: delivery.queue,
      error,
    });
  }
}

async function processDelivery(delivery: Delivery, deps: DeliveryHandlerDeps): Promise<void> {
  const receivedAt = deps.now();
  let message: TaskMessage;
  try {
    message = decodeTaskMessage(delivery.body, delivery.props, { maxBytes: deps.maxMessageBytes });
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    await rejectMalformed(delivery, error, deps);
    return;
  }

  const log = deps.logger.child({ task: message.task, id: message.id, retries: message.retries });
  const entry = deps.tasks.get(message.task);
  if (!entry) {
    // DEAD-LETTER UNKNOWN TASKS: retrying cannot teach this worker a new task.
    const reason = `Task "${message.task}" is not registered on worker "${deps.workerName}"`;
    log.warn("Dead-lettering a message for an unknown task", { queue: delivery.queue });
    await rejectTask(delivery, message, deps, { status: "FAILURE", type: "NotRegistered", reason });
    return;
  }
  const { task, policy } = entry;

  if (message.expires !== null && Date.parse(message.expires) <= deps.now()) {
    const reason = `Task expired at ${message.expires}`;
    log.warn("Dead-lettering an expired task", { expires: message.expires });
    await rejectTask(delivery, message, deps, {
      status: "REVOKED",
      type: "TaskRevokedError",
      reason,
    });
    return;
  }

  if (message.eta !== null) {
    const waitMs = Date.parse(message.eta) - deps.now();
    if (waitMs > ETA_SLACK_MS) {
      // NEVER HOLD A DELAYED TASK IN MEMORY: hand it back to the broker to hold.
      // An eta past what the broker holds in one go comes back early and is deferred again.
      const { body, props } = encodeTaskMessage(message);
      const delayMs = Math.min(waitMs, MAX_DELAY_MS);
      await deps.transport.publish(delivery.queue, body, { ...props, delayMs });
      await delivery.ack();
      log.debug("Deferred a task until its eta", { eta: message.eta, delay_ms: waitMs });
      return;
    }
  }

  await runAndSettle(delivery, message, task, policy, receivedAt, deps, log);
}

async function runAndSettle(
  delivery: Delivery,
  message: TaskMessage,
  task: TaskDefinition,
  policy: RetryPolicy,
  receivedAt: number,
  deps: DeliveryHandlerDeps,
  log: Logger,
): Promise<void> {
  const startedAt = deps.now();
  if (message.replyTo !== null && message.extraHeaders[TRACK_STARTED_HEADER] === true) {
    // A progress note, not an outcome: not awaited, and losing it loses nothing.
    publishResult(message, deps, {
      status: "STARTED",
      result: { pid: Deno.pid, hostname: deps.workerName },
      receivedAt: new Date(receivedAt).toISOString(),
      startedAt: new Date(startedAt).toISOString(),
      queue: delivery.queue,
    }).catch((error) => log.debug("Cannot publish STARTED", { error }));
  }

  const activeKey = `${message.id}:${message.retries}`;
  deps.active.set(activeKey, {
    id: message.id,
    name: message.task,
    args: message.args,
    kwargs: message.kwargs,
    retries: message.retries,
    queue: delivery.queue,
    startedAt,
  });
  deps.metrics.taskStarted();
  log.info("Task started");
  const outcome = await deps.runner.run(withTimeLimit(task, message.timeLimit), {
    id: message.id,
    name: message.task,
    args: message.args,
    kwargs: message.kwargs,
    retries: message.retries,
    log,
    stopSignal: deps.stopSignal,
  });
  deps.metrics.taskEnded();
  deps.active.delete(activeKey);
  const durationMs = round1(outcome.runtimeMs);
  const seconds = outcome.runtimeMs / 1000;

  // ===================================================================
  // ACK ONLY AFTER THE OUTCOME IS SAFELY PUBLISHED. Every branch below
  // first awaits the broker's confirm of the result, the retry or the
  // dead letter, and only then settles the delivery. A crash in between
  // means a redelivery (a task may run twice), never a lost task.
  // ===================================================================
  if (outcome.ok) {
    await publishFinal(message, "SUCCESS", deps, {
      result: outcome.value,
      runtimeMs: durationMs,
      queue: delivery.queue,
    });
    await delivery.ack();
    deps.metrics.taskFinished(message.task, "SUCCESS", seconds);
    log.info("Task succeeded", { duration_ms: durationMs });
    return;
  }

  if (outcome.stopped) {
    // The worker is shutting down: the attempt did not fail, it was cut short.
    await delivery.requeue();
    log.warn("Task interrupted by shutdown; requeued", { duration_ms: durationMs });
    return;
  }

  const error = outcome.error;
  const delayMs = policy.nextDelayMs(message.retries, { retryable: outcome.retryable });
  if (delayMs !== null) {
    // NEVER HOLD A RETRY IN MEMORY: the broker holds the wait (a delay queue).
    const eta = new Date(deps.now() + delayMs).toISOString();
    const next = retryTaskMessage(message, { eta });
    const { body, props } = encodeTaskMessage(next);
    await deps.transport.publish(delivery.queue, body, {
      ...props,
      delayMs: Math.min(delayMs, MAX_DELAY_MS),
    });
    // The retry message is the outcome; the RETRY state is a progress note
    // that follows the ack, so a client that saw RETRY never sees this
    // attempt run again after a crash.
    await delivery.ack();
    await publishResult(message, deps, {
      status: "RETRY",
      result: encodeException(error),
      traceback: error.stack ?? null,
      retries: message.retries,
      runtimeMs: durationMs,
      delayMs,
      queue: delivery.queue,
    }).catch((e) => log.warn("Cannot publish RETRY state", { error: e }));
    deps.metrics.taskFinished(message.task, "RETRY", seconds);
    deps.metrics.retried(message.task);
    log.warn("Task failed; retry scheduled", {
      duration_ms: durationMs,
      delay_ms: delayMs,
      error: error.message,
    });
    return;
  }

  const reason = outcome.retryable
    ? `${error.type}: ${error.message} (gave up after ${message.retries} retries)`
    : `${error.type}: ${error.message} (not retryable)`;
  await publishFinal(message, "FAILURE", deps, {
    error,
    runtimeMs: durationMs,
    queue: delivery.queue,
  });
  await delivery.deadLetter(reason, {
    "x-dts-error-type": error.type,
    "x-dts-error-message": error.message,
    "x-dts-retries": message.retries,
    "x-dts-worker": deps.workerName,
  });
  deps.metrics.taskFinished(message.task, "FAILURE", seconds);
  log.error("Task failed for good; dead-lettered", {
    duration_ms: durationMs,
    error: error.message,
  });
}

/** A message that cannot be decoded: dead-letter it with the reason, tell its sender if we can. */
async function rejectMalformed(
  delivery: Delivery,
  error: ProtocolError,
  deps: DeliveryHandlerDeps,
): Promise<void> {
  deps.logger.warn("Dead-lettering a malformed message", {
    queue: delivery.queue,
    reason: error.message,
  });
  await publishMalformed(
    {
      id: delivery.props.correlationId ?? stringHeader(delivery.props.headers.id),
      replyTo: delivery.props.replyTo,
      queue: delivery.queue,
    },
    error.message,
    deps,
  );
  await delivery.deadLetter(error.message, {
    "x-dts-error-type": "ProtocolError",
    "x-dts-error-message": error.message,
  });
  deps.metrics.taskFinished(stringHeader(delivery.props.headers.task) ?? "unknown", "REJECTED", 0);
}

/**
 * A decoded task this worker must not run (unknown, expired): the client gets
 * the final state, the message goes to the dead-letter queue with the reason.
 */
async function rejectTask(
  delivery: Delivery,
  message: TaskMessage,
  deps: DeliveryHandlerDeps,
  rejection: { status: "FAILURE" | "REVOKED"; type: string; reason: string },
): Promise<void> {
  const { status, type, reason } = rejection;
  await publishFinal(message, status, deps, {
    error: { type, message: reason, module: CELERY_EXCEPTIONS },
    queue: delivery.queue,
  });
  await delivery.deadLetter(reason, {
    "x-dts-error-type": type,
    "x-dts-error-message": reason,
    "x-dts-retries": message.retries,
  });
  deps.metrics.taskFinished(message.task, "REJECTED", 0);
}

function stringHeader(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
