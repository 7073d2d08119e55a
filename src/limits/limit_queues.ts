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
 * The lease and slot queues keep at most one ready message (drop-head), so
 * any worker may put one in at any time without ever making two: a second
 * copy can only wait behind the one held, and the single active consumer,
 * taking one at a time, never holds both.
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

/**
 * Classic and durable: they hold no work, only claims, and a quorum queue
 * counts every requeue of a claim toward a delivery limit (RabbitMQ 4 drops
 * a message after 20 by default).
 */
const TOKEN_QUEUE: QueueOptions = { durable: true };
const CLAIM_QUEUE: QueueOptions = { durable: true, singleActiveConsumer: true, maxLength: 1 };

/** Declare the token bucket. */
export function declareTokenQueue(transport: Transport, task: string): Promise<void> {
  return transport.assertQueue(tokenQueueName(task), TOKEN_QUEUE);
}

/**
 * Declare a claim queue (the leader's or a slot's) and put one claim in it.
 * Idempotent by construction: the queue keeps one ready claim at most.
 */
export async function declareClaim(transport: Transport, queue: string): Promise<void> {
  await transport.assertQueue(queue, CLAIM_QUEUE);
  await transport.publish(queue, CLAIM_BODY, { persistent: true, contentType: "text/plain" });
}

const CLAIM_BODY = new TextEncoder().encode("claim");
