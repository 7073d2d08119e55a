/**
 * How an attempt ended, recorded on the broker, then its message settled.
 * The order of those two steps is the point of this file.
 * @module
 */
import type { AttemptOutcome } from "../attempt/attempt_runner.ts";
import { BrokerError, MessageTooLargeError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { encodeException } from "../protocol/celery_result_message.ts";
import {
  encodeTaskMessage,
  retryTaskMessage,
  type TaskMessage,
} from "../protocol/celery_task_message.ts";
import { exponentialBackoff, type RetryPolicy } from "../retry/retry_policy.ts";
import { type Delivery, MAX_DELAY_MS } from "../transport/transport.ts";
import type { DeliveryDeps } from "./delivery_deps.ts";
import { deadLetterSafely } from "./reject_message.ts";
import { publishFinal, publishResult } from "./result_publisher.ts";

/** One finished attempt, to record. */
export interface FinishedAttempt {
  delivery: Delivery;
  message: TaskMessage;
  policy: RetryPolicy;
  outcome: AttemptOutcome;
  log: Logger;
  /** Called once the outcome is safe on the broker, before the message is settled. */
  recorded(): void;
}

/** A publish that lost its channel to a sibling's refused message is tried again this often. */
const REPUBLISH = exponentialBackoff({
  maxRetries: 2,
  backoffMs: 50,
  factor: 4,
  maxBackoffMs: 1000,
  jitter: true,
});

/**
 * Record the outcome, then settle the message.
 * @throws {BrokerError} when the outcome cannot be recorded; the message is still unsettled then
 */
export async function recordOutcome(attempt: FinishedAttempt, deps: DeliveryDeps): Promise<void> {
  const { delivery, message, outcome, log } = attempt;
  const durationMs = Math.round(outcome.runtimeMs * 10) / 10;
  const seconds = outcome.runtimeMs / 1000;

  // ===================================================================
  // ACK ONLY AFTER THE OUTCOME IS SAFELY PUBLISHED. Every branch below
  // first awaits the broker's confirm of the result, the retry or the
  // dead letter, and only then settles the delivery. A crash in between
  // means a redelivery (a task may run twice), never a lost task.
  // ===================================================================
  if (outcome.ok) {
    try {
      await republishing(deps, () =>
        publishFinal(message, "SUCCESS", deps, {
          result: outcome.value,
          runtimeMs: durationMs,
          queue: delivery.queue,
        }));
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) throw error;
      await failTooLarge(attempt, error, deps, durationMs);
      return;
    }
    attempt.recorded();
    await delivery.ack();
    deps.metrics.taskFinished(message.task, "SUCCESS", seconds);
    log.info("Task succeeded", { duration_ms: durationMs });
    return;
  }

  if (outcome.stopped) {
    // Cut short from outside, not failed: back to the queue, uncounted.
    attempt.recorded();
    await delivery.release();
    log.warn("Task interrupted by shutdown; requeued", { duration_ms: durationMs });
    return;
  }

  const error = outcome.error;
  const delayMs = attempt.policy.nextDelayMs(message.retries, { retryable: outcome.retryable });
  if (delayMs !== null) {
    // NEVER HOLD A RETRY IN MEMORY: the broker holds the wait (the delay ladder).
    const eta = new Date(deps.now() + delayMs).toISOString();
    const { body, props } = encodeTaskMessage(retryTaskMessage(message, { eta }));
    await republishing(deps, () =>
      deps.transport.publish(delivery.queue, body, {
        ...props,
        delayMs: Math.min(delayMs, MAX_DELAY_MS),
      }));
    attempt.recorded();
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
  await republishing(
    deps,
    () =>
      publishFinal(message, "FAILURE", deps, {
        error,
        runtimeMs: durationMs,
        queue: delivery.queue,
      }),
  );
  await deadLetterSafely(delivery, reason, {
    "x-dts-error-type": error.type,
    "x-dts-error-message": error.message,
    "x-dts-retries": message.retries,
    "x-dts-worker": deps.workerName,
  }, deps);
  attempt.recorded();
  deps.metrics.taskFinished(message.task, "FAILURE", seconds);
  log.error("Task failed for good; dead-lettered", {
    duration_ms: durationMs,
    error: error.message,
  });
}

/** A result larger than the broker takes: the sender gets a FAILURE that says so, the message a dead letter. */
async function failTooLarge(
  attempt: FinishedAttempt,
  tooLarge: MessageTooLargeError,
  deps: DeliveryDeps,
  durationMs: number,
): Promise<void> {
  const { delivery, message, log } = attempt;
  const error = {
    type: "ResultTooLargeError",
    message:
      `The task's result is ${tooLarge.bytes} bytes as a message; the broker takes at most ${tooLarge.maxBytes} (RabbitMQ max_message_size)`,
  };
  await republishing(
    deps,
    () =>
      publishFinal(message, "FAILURE", deps, {
        error,
        runtimeMs: durationMs,
        queue: delivery.queue,
      }),
  );
  await deadLetterSafely(delivery, `${error.type}: ${error.message}`, {
    "x-dts-error-type": error.type,
    "x-dts-error-message": error.message,
    "x-dts-retries": message.retries,
    "x-dts-worker": deps.workerName,
  }, deps);
  attempt.recorded();
  deps.metrics.taskFinished(message.task, "FAILURE", durationMs / 1000);
  log.error("Task result too large for the broker; dead-lettered", { bytes: tooLarge.bytes });
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
      const again = error instanceof BrokerError && error.recoverable && deps.transport.connected
        ? REPUBLISH.nextDelayMs(tries)
        : null;
      if (again === null) throw error;
      await deps.clock.sleep(again);
    }
  }
}
