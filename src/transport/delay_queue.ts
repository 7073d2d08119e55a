/**
 * Broker-held delays on RabbitMQ: one wait queue per (target queue, delay
 * bucket), each with a fixed `x-message-ttl` that dead-letters expired
 * messages into the target queue. A fixed TTL per queue means every message
 * expires in order at its head; per-message TTL in one shared queue would
 * hold a short delay behind a long one.
 * @module
 */

/** How long an unused delay queue lives beyond its own delay. */
export const DELAY_QUEUE_IDLE_MS = 10 * 60 * 1000;

/**
 * Round a delay to two significant digits (minimum 1 ms), so jittered delays
 * share a bounded number of wait queues.
 * @example delayBucketMs(1234) // 1200
 * @example delayBucketMs(87) // 87
 */
export function delayBucketMs(delayMs: number): number {
  if (!Number.isFinite(delayMs)) {
    throw new RangeError(`Cannot bucket delay ${delayMs}: must be a finite number`);
  }
  const ms = Math.max(1, Math.round(delayMs));
  if (ms < 100) return ms;
  const magnitude = 10 ** (String(ms).length - 2);
  return Math.round(ms / magnitude) * magnitude;
}

/** Name of the wait queue that holds messages for `queue` during `bucketMs`. */
export function delayQueueName(queue: string, bucketMs: number): string {
  return `dts.delay.${queue}.${bucketMs}`;
}

/**
 * The arguments of a wait queue: its messages expire after `bucketMs` into
 * `queue`, and the wait queue itself goes once unused for the delay plus
 * `DELAY_QUEUE_IDLE_MS`.
 */
export function delayQueueArguments(queue: string, bucketMs: number): Record<string, unknown> {
  return {
    "x-message-ttl": bucketMs,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": queue,
    "x-expires": bucketMs + DELAY_QUEUE_IDLE_MS,
  };
}
