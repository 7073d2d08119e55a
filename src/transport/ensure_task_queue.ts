/**
 * How senders (dispatcher, load test, a worker sending the next task of a
 * Celery canvas) make sure a task queue exists.
 * @module
 */
import { BrokerError } from "../errors.ts";
import type { TaskQueueOptions, Transport } from "./transport.ts";

/**
 * Declare a task queue as the workers are configured to (`worker.queue_type`;
 * classic is what Celery declares), so that a sender that runs before any
 * worker does not create it as the wrong type; unless it exists already as
 * another type: a sender does not care about the type, only that its
 * messages have a queue.
 * @throws {BrokerError} when the queue cannot be declared and does not exist
 */
export async function ensureTaskQueue(
  transport: Transport,
  queue: string,
  options: TaskQueueOptions = {},
): Promise<void> {
  try {
    await transport.assertTaskQueue(queue, options);
  } catch (error) {
    if (!(error instanceof BrokerError) || error.recoverable) throw error;
    if (await transport.inspectQueue(queue) === null) throw error;
  }
}
