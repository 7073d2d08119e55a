/**
 * Inspect, replay or drop the dead letters of a task queue (`<queue>.dead`),
 * one basic.get at a time, so nothing is taken from the broker before its
 * fate is settled.
 * @module
 */
import { deadLetterQueueName, type Delivery, type Transport } from "../transport/transport.ts";
import { type DeadLetterSummary, summarizeDeadLetter } from "./dead_letter_summary.ts";
import { replayProps } from "./replay_props.ts";

/** What `listDeadLetters` saw. */
export interface DeadLetterListing {
  deadQueue: string;
  /** Depth of the dead-letter queue before listing (0 when it does not exist). */
  total: number;
  messages: DeadLetterSummary[];
}

/** Options of the dead-letter operations. */
export interface DeadLetterOptions {
  /** Handle at most this many (oldest first). @default all */
  limit?: number;
}

/**
 * List the dead letters of `queue` without losing any: every message is read
 * (held unacknowledged) and only then all are given back. The broker marks
 * them redelivered; a classic queue puts them back where they were, a quorum
 * queue at its tail.
 */
export async function listDeadLetters(
  transport: Transport,
  queue: string,
  options: DeadLetterOptions = {},
): Promise<DeadLetterListing> {
  const deadQueue = deadLetterQueueName(queue);
  const info = await transport.inspectQueue(deadQueue);
  if (info === null) return { deadQueue, total: 0, messages: [] };
  const held: Delivery[] = [];
  try {
    const limit = Math.min(options.limit ?? Infinity, info.messages);
    while (held.length < limit) {
      const delivery = await transport.get(deadQueue);
      if (delivery === null) break;
      held.push(delivery);
    }
    return {
      deadQueue,
      total: info.messages,
      messages: held.map((d) => summarizeDeadLetter(d.props, d.body)),
    };
  } finally {
    // Unsettled on a failure is fine too: the broker requeues them when we close.
    for (const delivery of held) await delivery.requeue().catch(() => {});
  }
}

/**
 * Take dead letters of `queue` one by one (basic.get) and hand each to
 * `settle`, which must ack or requeue it; at most `limit`, and never more
 * than the depth seen at the start, so a message that comes back at once is
 * not taken twice in one run. Resolves to how many were taken.
 */
async function takeDeadLetters(
  transport: Transport,
  queue: string,
  limit: number,
  settle: (delivery: Delivery) => Promise<void>,
): Promise<number> {
  const deadQueue = deadLetterQueueName(queue);
  const info = await transport.inspectQueue(deadQueue);
  if (info === null) return 0;
  const bound = Math.min(limit, info.messages);
  let taken = 0;
  while (taken < bound) {
    const delivery = await transport.get(deadQueue);
    if (delivery === null) break;
    await settle(delivery);
    taken++;
  }
  return taken;
}

/**
 * Re-queue dead letters into `queue` with a fresh retry count, without a
 * `reply_to` whose queue is gone. Each replay is
 * confirmed by the broker before its dead letter is acknowledged, so a crash
 * in between duplicates a message, never loses one. Resolves to how many.
 */
export async function replayDeadLetters(
  transport: Transport,
  queue: string,
  options: DeadLetterOptions = {},
): Promise<number> {
  if (await transport.inspectQueue(deadLetterQueueName(queue)) === null) return 0;
  await transport.assertTaskQueue(queue);
  // A reply queue outlives its sender by little (it expires): keep `replyTo` only while
  // it still exists; else the result would be unroutable, and nobody waits for it anyway.
  const replyQueueExists = new Map<string, Promise<boolean>>();
  const keepReplyTo = (replyTo: string | undefined): Promise<boolean> => {
    if (replyTo === undefined || replyTo === "") return Promise.resolve(false);
    let exists = replyQueueExists.get(replyTo);
    if (exists === undefined) {
      exists = transport.inspectQueue(replyTo).then((info) => info !== null);
      replyQueueExists.set(replyTo, exists);
    }
    return exists;
  };
  return await takeDeadLetters(transport, queue, options.limit ?? Infinity, async (delivery) => {
    try {
      const props = replayProps(delivery.props, {
        keepReplyTo: await keepReplyTo(delivery.props.replyTo),
      });
      await transport.publish(queue, delivery.body, props);
    } catch (error) {
      await delivery.requeue().catch(() => {});
      throw error;
    }
    await delivery.ack();
  });
}

/** Drop dead letters of `queue` (all, or the oldest `limit`); resolves to how many. */
export async function purgeDeadLetters(
  transport: Transport,
  queue: string,
  options: DeadLetterOptions = {},
): Promise<number> {
  if (options.limit === undefined) {
    const deadQueue = deadLetterQueueName(queue);
    if (await transport.inspectQueue(deadQueue) === null) return 0;
    return await transport.purgeQueue(deadQueue);
  }
  return await takeDeadLetters(transport, queue, options.limit, (delivery) => delivery.ack());
}
