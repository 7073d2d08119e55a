/**
 * How an attempt ended, recorded on the broker, then its message settled.
 * The order of those two steps is the point of this file.
 * @module
 */
import type { AttemptOutcome } from "../attempt/attempt_runner.ts";
import { BrokerError, type ErrorInfo, MessageTooLargeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { encodeException } from "../protocol/celery_result_message.ts";
import {
  encodeTaskMessage,
  retryTaskMessage,
  type TaskMessage,
} from "../protocol/celery_task_message.ts";
import { type Backoff, backoffDelayMs } from "../retry/backoff.ts";
import type { RetryPolicy } from "../retry/retry_policy.ts";
import { type Delivery, MAX_DELAY_MS } from "../transport/transport.ts";
import type { DeliveryDeps } from "./delivery_deps.ts";
import { deadLetterSafely } from "./reject_message.ts";
import { publishFinal, publishResult } from "./result_publisher.ts";
import { ensureTaskQueue } from "../transport/ensure_task_queue.ts";
import {
  afterFailure,
  afterSuccess,
  chainBrokenError,
  type Continuation,
} from "./canvas_continuation.ts";

/** One finished attempt, to record. */
export interface FinishedAttempt {
  delivery: Delivery;
  message: TaskMessage;
  policy: RetryPolicy;
  outcome: AttemptOutcome;
  log: Logger;
  /** Called once the outcome is safe on the broker, before the message is settled. */
  recorded(): void;
  /** Headers the retry message gets besides the task's own (the attempt's trace link). @default none */
  retryHeaders?: Readonly<Record<string, string>> | null;
  /** Headers of the tasks its canvas sends on (the attempt as their trace parent). @default none */
  continuationHeaders?: Readonly<Record<string, string>> | null;
}

/** What was recorded: the task's state after this attempt, or its message put back. */
export type RecordedOutcome = "SUCCESS" | "RETRY" | "FAILURE" | "REVOKED" | "REQUEUED";

/** A publish that lost its channel to a sibling's refused message is tried again, twice at most. */
const REPUBLISH: Backoff = { baseMs: 50, factor: 4, maxMs: 1000, jitter: "full" };
const REPUBLISH_TRIES = 2;

/**
 * Record the outcome, then settle the message; what was recorded.
 * @throws {BrokerError} when the outcome cannot be recorded; the message is still unsettled then
 */
export async function recordOutcome(
  attempt: FinishedAttempt,
  deps: DeliveryDeps,
): Promise<RecordedOutcome> {
  const { outcome } = attempt;
  const runtimeMs = Math.round(outcome.runtimeMs * 10) / 10;

  // ===================================================================
  // ACK ONLY AFTER THE OUTCOME IS SAFELY PUBLISHED. Every branch below
  // first awaits the broker's confirm of the result, the retry or the
  // dead letter, and only then settles the delivery. A crash in between
  // means a redelivery (a task may run twice), never a lost task.
  // ===================================================================
  if (outcome.ok) {
    return await recordSuccess(attempt, { value: outcome.value, runtimeMs }, deps);
  }
  if (outcome.stopped) {
    // Cut short from outside, not failed: back to the queue, uncounted.
    attempt.recorded();
    await attempt.delivery.release();
    attempt.log.warn("Task interrupted by shutdown; requeued", { duration_ms: runtimeMs });
    return "REQUEUED";
  }
  if (outcome.revoked === true) {
    await recordRevoked(attempt, outcome.error, runtimeMs, deps);
    return "REVOKED";
  }
  const failure = { error: outcome.error, retryable: outcome.retryable, runtimeMs };
  const delayMs = attempt.policy.nextDelayMs(attempt.message.retries, failure);
  if (delayMs !== null) {
    await recordRetry(attempt, { ...failure, delayMs }, deps);
    return "RETRY";
  }
  const { error } = failure;
  const reason = failure.retryable
    ? `${error.type}: ${error.message} (gave up after ${attempt.message.retries} retries)`
    : `${error.type}: ${error.message} (not retryable)`;
  await recordFailure(attempt, { error, reason, runtimeMs }, deps);
  attempt.log.error("Task failed for good; dead-lettered", {
    duration_ms: runtimeMs,
    error: error.message,
  });
  return "FAILURE";
}

/** Revoked with terminate while it ran: REVOKED, acknowledged, never retried. */
async function recordRevoked(
  attempt: FinishedAttempt,
  error: ErrorInfo,
  runtimeMs: number,
  deps: DeliveryDeps,
): Promise<void> {
  const { delivery, message } = attempt;
  await republishing(deps, () =>
    publishFinal(message, deps, {
      status: "REVOKED",
      error: { ...error, module: "celery.exceptions" },
      runtimeMs,
      queue: delivery.queue,
    }));
  attempt.recorded();
  await delivery.ack();
  deps.events?.revoked(message, { terminated: true, expired: false });
  deps.metrics.taskFinished(message.task, "REVOKED", runtimeMs / 1000);
  attempt.log.warn("Task terminated: revoked", { duration_ms: runtimeMs, reason: error.message });
}

/** A failed attempt and how long it ran. */
interface Failure {
  error: ErrorInfo;
  runtimeMs: number;
}

async function recordSuccess(
  attempt: FinishedAttempt,
  success: { value: unknown; runtimeMs: number },
  deps: DeliveryDeps,
): Promise<"SUCCESS" | "FAILURE"> {
  const { delivery, message } = attempt;
  const { value, runtimeMs } = success;
  try {
    await republishing(deps, () =>
      publishFinal(message, deps, {
        status: "SUCCESS",
        result: value,
        runtimeMs,
        queue: delivery.queue,
      }));
  } catch (error) {
    if (!(error instanceof MessageTooLargeError)) throw error;
    await failTooLarge(attempt, { tooLarge: error, runtimeMs }, deps);
    return "FAILURE";
  }
  // The canvas continues before the ack, as the result does: a crash sends it again, never loses it.
  await sendContinuations(afterSuccess(message, value), attempt, deps);
  attempt.recorded();
  await delivery.ack();
  deps.events?.succeeded(message, value, runtimeMs);
  deps.metrics.taskFinished(message.task, "SUCCESS", runtimeMs / 1000);
  attempt.log.info("Task succeeded", { duration_ms: runtimeMs });
  return "SUCCESS";
}

async function recordRetry(
  attempt: FinishedAttempt,
  retry: Failure & { delayMs: number },
  deps: DeliveryDeps,
): Promise<void> {
  const { delivery, message, log } = attempt;
  const { error, delayMs, runtimeMs } = retry;
  // NEVER HOLD A RETRY IN MEMORY: the broker holds the wait (the delay ladder).
  const eta = new Date(deps.now() + delayMs).toISOString();
  const next = retryTaskMessage(message, { eta });
  if (attempt.retryHeaders) next.extraHeaders = { ...next.extraHeaders, ...attempt.retryHeaders };
  const { body, props } = encodeTaskMessage(next);
  await republishing(deps, () =>
    deps.transport.publish(delivery.queue, body, {
      ...props,
      delayMs: Math.min(delayMs, MAX_DELAY_MS),
    }));
  attempt.recorded();
  deps.events?.retried(message, error);
  // The retry message is the outcome; the RETRY state is a progress note
  // that follows the ack, so a client that saw RETRY never sees this
  // attempt run again after a crash.
  await delivery.ack();
  await publishResult(message, deps, {
    status: "RETRY",
    result: encodeException(error),
    traceback: error.stack ?? null,
    retries: message.retries,
    runtimeMs,
    delayMs,
    queue: delivery.queue,
  }).catch((e) => log.warn("Cannot publish RETRY state", { error: e }));
  deps.metrics.taskFinished(message.task, "RETRY", runtimeMs / 1000);
  deps.metrics.retried(message.task);
  log.warn("Task failed; retry scheduled", {
    duration_ms: runtimeMs,
    delay_ms: delayMs,
    error: error.message,
  });
}

/** The sender gets the FAILURE first, then the message goes to `<queue>.dead` with the reason. */
async function recordFailure(
  attempt: FinishedAttempt,
  failure: Failure & { reason: string },
  deps: DeliveryDeps,
): Promise<void> {
  const { delivery, message } = attempt;
  const { error, runtimeMs } = failure;
  await republishing(
    deps,
    () =>
      publishFinal(message, deps, { status: "FAILURE", error, runtimeMs, queue: delivery.queue }),
  );
  const { errbacks, owed } = afterFailure(message);
  await sendContinuations(errbacks, attempt, deps);
  // The rest of its chain will never run: its clients get the failure instead of waiting forever.
  const broken = chainBrokenError(message, error);
  for (const { taskId, replyTo } of owed) {
    await republishing(deps, () =>
      publishFinal({ ...message, id: taskId, replyTo }, deps, {
        status: "FAILURE",
        error: broken,
        queue: delivery.queue,
      }));
  }
  await deadLetterSafely(delivery, {
    reason: failure.reason,
    headers: {
      "x-dts-error-type": error.type,
      "x-dts-error-message": error.message,
      "x-dts-retries": message.retries,
      "x-dts-worker": deps.workerName,
    },
  }, deps);
  attempt.recorded();
  deps.events?.failed(message, error);
  deps.metrics.taskFinished(message.task, "FAILURE", runtimeMs / 1000);
}

/** A result larger than the broker takes: the sender gets a FAILURE that says so, the message a dead letter. */
async function failTooLarge(
  attempt: FinishedAttempt,
  failure: { tooLarge: MessageTooLargeError; runtimeMs: number },
  deps: DeliveryDeps,
): Promise<void> {
  const { tooLarge, runtimeMs } = failure;
  const error = {
    type: "ResultTooLargeError",
    message:
      `The task's result is ${tooLarge.bytes} bytes as a message; the broker takes at most ${tooLarge.maxBytes} (RabbitMQ max_message_size)`,
  };
  await recordFailure(
    attempt,
    { error, reason: `${error.type}: ${error.message}`, runtimeMs },
    deps,
  );
  attempt.log.error("Task result too large for the broker; dead-lettered", {
    bytes: tooLarge.bytes,
  });
}

/** Send the canvas's next tasks, each confirmed, declaring its queue as Celery would. */
async function sendContinuations(
  sends: Continuation[],
  attempt: FinishedAttempt,
  deps: DeliveryDeps,
): Promise<void> {
  for (const { queue, message } of sends) {
    if (attempt.continuationHeaders) {
      message.extraHeaders = { ...message.extraHeaders, ...attempt.continuationHeaders };
    }
    await ensureTaskQueue(deps.transport, queue);
    const { body, props } = encodeTaskMessage(message);
    await republishing(deps, () => deps.transport.publish(queue, body, props));
    attempt.log.info("Sent the next task of its canvas", {
      next: message.task,
      next_id: message.id,
      queue,
    });
  }
}

/**
 * Publish, and publish again when the publish channel closed under it for
 * another message's sake (the connection itself still up): a sibling's
 * oversized result must not fail this task's outcome.
 */
async function republishing(deps: DeliveryDeps, publish: () => Promise<void>): Promise<void> {
  for (let tries = 0;; tries++) {
    try {
      return await publish();
    } catch (error) {
      const again = error instanceof BrokerError && error.recoverable &&
        deps.transport.connected && tries < REPUBLISH_TRIES;
      if (!again) throw error;
      await deps.clock.sleep(backoffDelayMs(tries, REPUBLISH));
    }
  }
}
