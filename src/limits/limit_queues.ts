/**
 * The broker queues that hold a task's fleet-wide limits. They belong to the
 * task, not to any worker: every worker of the task declares the same ones.
 *
 * - `dts.limit.<task>.tokens`: the rate limit's token bucket (ready messages
 *   are tokens; a worker takes one per task started).
 * - `dts.limit.<task>.leader`: a single-active-consumer queue holding a lease
 *   message; the worker it is delivered to refills the bucket.
 * - `dts.limit.<task>.slot.<i>`, i < max_concurrency: one queue per slot of
 *   `max_concurrency`, each single-active-consumer with one token; a worker
 *   runs a task while it is the active consumer holding that token.
 *
 * The lease and slot queues are claim queues (`control/claim_queue.ts`).
 * @module
 */
import type { QueueOptions, Transport } from "../transport/transport.ts";

/** The most slots a task may have: each is a queue, and a waiting worker subscribes to all. */
export const MAX_CONCURRENCY_LIMIT = 256;

/** The token bucket of `task`'s rate limit. */
export function tokenQueueName(task: string): string {
  return `dts.limit.${task}.tokens`;
}

/** The queue whose active consumer refills `task`'s bucket. */
export function leaderQueueName(task: string): string {
  return `dts.limit.${task}.leader`;
}

/** Slot `index` of `task`'s `max_concurrency`. */
export function slotQueueName(task: string, index: number): string {
  return `dts.limit.${task}.slot.${index}`;
}

/** Classic and durable, like the claim queues: it holds no work, only tokens. */
const TOKEN_QUEUE: QueueOptions = { durable: true };

/** Declare the token bucket. */
export function declareTokenQueue(transport: Transport, task: string): Promise<void> {
  return transport.assertQueue(tokenQueueName(task), TOKEN_QUEUE);
}
