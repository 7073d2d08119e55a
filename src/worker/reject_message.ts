/**
 * Messages a worker will not run: unreadable ones, unknown or expired tasks,
 * poison. Each goes to `<queue>.dead` with its reason, and its sender gets
 * the final state when the message says who the sender is.
 * @module
 */
import { UnroutableError } from "../errors.ts";
import type { Revocation } from "../control/revoked_set.ts";
import type { Logger } from "../log/logger.ts";
import type { TaskMessage } from "../protocol/celery_task_message.ts";
import type { Delivery } from "../transport/transport.ts";
import type { DeliveryDeps } from "./delivery_deps.ts";
import { publishFinal, publishMalformed } from "./result_publisher.ts";

/** Celery's own classes for these states, so `except TaskRevokedError:` works in a Celery client. */
const CELERY_EXCEPTIONS = "celery.exceptions";

/** Why a decoded task is refused, and what its sender is told. */
export interface Rejection {
  status: "FAILURE" | "REVOKED";
  /** Error class the sender sees, e.g. `NotRegistered`, `TaskRevokedError`, `WorkerLostError`. */
  type: string;
  reason: string;
  /** More dead-letter headers. */
  headers?: Record<string, unknown>;
}

/** What a dead letter says: `x-dts-reason` and more headers. */
export interface DeadLetter {
  reason: string;
  headers: Record<string, unknown>;
}

/**
 * Dead-letter a delivery. When `<queue>.dead` was deleted while the worker
 * runs (the copy comes back unroutable), declare the task queue's topology
 * again and try once more.
 * @throws {BrokerError} when the copy cannot be published even then
 */
export async function deadLetterSafely(
  delivery: Delivery,
  letter: DeadLetter,
  deps: DeliveryDeps,
): Promise<void> {
  try {
    await delivery.deadLetter(letter.reason, letter.headers);
  } catch (error) {
    if (!(error instanceof UnroutableError)) throw error;
    deps.logger.warn("The dead-letter queue is gone; declaring it again", {
      queue: delivery.queue,
    });
    await deps.transport.assertTaskQueue(delivery.queue, deps.queueOptions(delivery.queue));
    await delivery.deadLetter(letter.reason, letter.headers);
  }
}

/** A message that cannot be decoded: dead-letter it with the reason, tell its sender if we can. */
export async function rejectMalformed(
  delivery: Delivery,
  reason: string,
  deps: DeliveryDeps,
): Promise<void> {
  deps.logger.warn("Dead-lettering a malformed message", { queue: delivery.queue, reason });
  await publishMalformed(
    {
      id: delivery.props.correlationId ?? stringHeader(delivery.props.headers.id),
      replyTo: delivery.props.replyTo,
      queue: delivery.queue,
    },
    reason,
    deps,
  );
  await deadLetterSafely(delivery, {
    reason,
    headers: { "x-dts-error-type": "ProtocolError", "x-dts-error-message": reason },
  }, deps);
  deps.metrics.taskFinished(stringHeader(delivery.props.headers.task) ?? "unknown", "REJECTED", 0);
}

/** A decoded task this worker must not run: the sender gets the final state, the message goes to `<queue>.dead`. */
export async function rejectTask(
  task: { delivery: Delivery; message: TaskMessage },
  rejection: Rejection,
  deps: DeliveryDeps,
): Promise<void> {
  const { delivery, message } = task;
  const { status, type, reason } = rejection;
  await publishFinal(message, deps, {
    status,
    error: { type, message: reason, module: CELERY_EXCEPTIONS },
    queue: delivery.queue,
  });
  await deadLetterSafely(delivery, {
    reason,
    headers: {
      "x-dts-error-type": type,
      "x-dts-error-message": reason,
      "x-dts-retries": message.retries,
      ...rejection.headers,
    },
  }, deps);
  deps.metrics.taskFinished(message.task, "REJECTED", 0);
}

/**
 * A task revoked before it ran: its sender learns REVOKED (Celery's
 * `TaskRevokedError`), and the message is acknowledged, not dead-lettered:
 * it was cancelled on purpose, there is nothing to replay.
 */
export async function refuseRevoked(
  task: { delivery: Delivery; message: TaskMessage; log: Logger },
  revocation: Revocation,
  deps: DeliveryDeps,
): Promise<void> {
  const { delivery, message } = task;
  task.log.info("Not running a revoked task", {
    reason: revocation.reason,
    revoked_at: new Date(revocation.revokedAt).toISOString(),
  });
  await publishFinal(message, deps, {
    status: "REVOKED",
    error: { type: "TaskRevokedError", message: revocation.reason, module: CELERY_EXCEPTIONS },
    queue: delivery.queue,
  });
  await delivery.ack();
  deps.events?.revoked(message, { terminated: false, expired: false });
  deps.metrics.taskFinished(message.task, "REVOKED", 0);
}

function stringHeader(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
