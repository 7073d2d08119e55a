/**
 * Turning amqplib's errors into `BrokerError`s.
 * @module
 */

import { BrokerError, QueueMismatchError, toError } from "../../errors.ts";
import { redactText } from "../../log/redact.ts";

/** The AMQP reply code of a driver error (404, 406…), if it has one. */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Wrap a driver error; 4xx channel errors (not found, precondition failed…) are not recoverable. */
export function brokerError(action: string, error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  const cause = toError(error);
  const code = errorCode(cause);
  const mismatch = code === 406 ? INEQUIVALENT.exec(cause.message) : null;
  if (mismatch !== null) {
    const [, arg, queue, received, current] = mismatch;
    return new QueueMismatchError(
      `Cannot ${action}: it exists with other arguments (${arg}: ${current} there, ${received} here); ` +
        `RabbitMQ never changes a queue's arguments: drain and delete the queue ` +
        `(rabbitmqctl delete_queue ${queue}) to declare it anew, or declare it as it is (worker.queue_type, worker.delivery_limit, tasks.<key>.max_priority)`,
      queue,
      { cause },
    );
  }
  return new BrokerError(`Cannot ${action}: ${redactText(cause.message)}`, {
    cause,
    recoverable: code === undefined || code < 400 || code >= 500,
  });
}

/** e.g. PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q' in vhost '/': received 'quorum' but current is 'classic' */
const INEQUIVALENT =
  /inequivalent arg '([^']+)' for queue '([^']*)' in vhost '[^']*': received (.+?) but current is (.+?)(?:"|$)/;
