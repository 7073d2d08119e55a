/**
 * How senders (dispatcher, load test) make sure a task queue exists.
 * @module
 */
import { BrokerError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/**
 * Declare a task queue the way Celery does (classic), unless it already
 * exists as another type: a worker may have declared it quorum, and a sender
 * does not care about the queue type, only that its messages have a queue.
 * @throws {BrokerError} when the queue cannot be declared and does not exist
 */
export async function ensureTaskQueue(transport: Transport, queue: string): Promise<void> {
  try {
    await transport.assertTaskQueue(queue);
  } catch (error) {
    if (!(error instanceof BrokerError) || error.recoverable) throw error;
    if (await transport.inspectQueue(queue) === null) throw error;
  }
}
