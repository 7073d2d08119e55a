/**
 * Claim queues: how dts gets "exactly one holder" from RabbitMQ alone. A
 * claim queue is single-active-consumer and keeps at most one ready message
 * (drop-head); its one message is the claim. The consumer the broker hands
 * it to holds it (unacknowledged, prefetch 1) until it gives it back or its
 * connection closes; then the broker hands it to the next consumer in line.
 * Any process may put a claim in at any time without ever making two
 * holders: a second copy can only wait behind the one held, and the single
 * active consumer, taking one at a time, never holds both.
 *
 * Used for the rate-limit leader, each `max_concurrency` slot, and the
 * scheduler's leader.
 * @module
 */
import type { QueueOptions, Transport } from "../transport/transport.ts";

/**
 * Classic and durable: a quorum queue counts every returned claim toward a
 * delivery limit (RabbitMQ 4 drops a message after 20 by default).
 */
export const CLAIM_QUEUE: QueueOptions = {
  durable: true,
  singleActiveConsumer: true,
  maxLength: 1,
};

const CLAIM_BODY = new TextEncoder().encode("claim");

/** Declare a claim queue and put one claim in it; idempotent by construction. */
export async function declareClaim(transport: Transport, queue: string): Promise<void> {
  await transport.assertQueue(queue, CLAIM_QUEUE);
  await transport.publish(queue, CLAIM_BODY, { persistent: true, contentType: "text/plain" });
}
