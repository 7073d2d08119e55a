/**
 * Broker-held delays on RabbitMQ: a fixed ladder of wait queues, one per
 * power of two, shared by every task queue (the shape of kombu's native
 * delayed delivery, in milliseconds).
 *
 * A delay is written in binary. Level `L` is a quorum queue whose messages
 * wait exactly 2^L ms; its exchange `dts.delay.L` routes a message into the
 * level's queue when bit L of its delay is set, and on to level L-1's
 * exchange when it is not. An expired message is dead-lettered to the next
 * level down, so it visits exactly the levels of its set bits and has waited
 * its whole delay when it leaves level `LOWEST_LEVEL` for `dts.delay.out`,
 * which routes it to its task queue by the name at the end of its routing key.
 *
 * Why this shape:
 * - every level holds one TTL, so messages expire in order at its head (per-
 *   message TTL in one shared queue would hold a short delay behind a long one);
 * - quorum queues dead-letter at-least-once (`x-dead-letter-strategy:
 *   at-least-once`, RabbitMQ >= 3.10): a message leaves a level only once the
 *   next one has confirmed it, so a broker killed mid-hop loses nothing.
 *   Classic queues dead-letter at most once, and lost retries on `kill -9`;
 * - a fixed set of 28 queues, however many task queues and delays there are.
 * @module
 */

import { MAX_DELAY_MS } from "../transport.ts";

export { MAX_DELAY_MS };

/** Delays are rounded up to this many milliseconds (2^LOWEST_LEVEL). */
export const DELAY_RESOLUTION_MS = 16;
/** The shortest level: 2^4 = 16 ms. */
export const LOWEST_LEVEL = 4;
/** The longest level: 2^31 ms, about 24.9 days. */
export const HIGHEST_LEVEL = 31;

/** Where a waited-out message leaves the ladder, bound to each task queue. */
export const DELAY_OUT_EXCHANGE = "dts.delay.out";
/**
 * Alternate exchange of `dts.delay.out`: a delayed message whose task queue
 * was deleted meanwhile goes here instead of being dropped, or, under
 * at-least-once dead-lettering, being retried in the last level forever.
 */
export const DELAY_UNROUTABLE = "dts.delay.unroutable";
/**
 * The quorum queue bound to `dts.delay.unroutable` that keeps those messages.
 * Quorum, as every queue a worker declares on its own: a classic queue lives
 * on one node, and while that node is down a worker on another node cannot
 * declare it, so it could not schedule retries. (dts before 0.x declared a
 * classic queue named `dts.delay.unroutable`; it may be deleted.)
 */
export const DELAY_LOST_QUEUE = "dts.delay.lost";
/** How long `dts.delay.lost` keeps a message. */
export const UNROUTABLE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const LEVELS = HIGHEST_LEVEL - LOWEST_LEVEL + 1;

/** The levels, from the longest down. */
export function delayLevels(): number[] {
  return Array.from({ length: LEVELS }, (_, i) => HIGHEST_LEVEL - i);
}

/** Name of level `level`'s exchange and of its queue. */
export function levelName(level: number): string {
  return `dts.delay.${level}`;
}

/** The delay as the ladder holds it: rounded up to `DELAY_RESOLUTION_MS`, so never shorter. */
export function roundDelayMs(delayMs: number): number {
  return Math.ceil(delayMs / DELAY_RESOLUTION_MS) * DELAY_RESOLUTION_MS;
}

/**
 * Where to publish a message that waits `delayMs` before reaching `queue`.
 * @throws {RangeError} for a delay that is not finite, is negative, or exceeds `MAX_DELAY_MS`
 * @throws {TypeError} for a queue name that cannot end a topic routing key
 */
export function delayRoute(
  queue: string,
  delayMs: number,
): { exchange: string; routingKey: string } {
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    throw new RangeError(
      `Cannot delay a message by ${delayMs} ms: must be 0..${MAX_DELAY_MS} ms (about 49 days)`,
    );
  }
  checkDelayQueueName(queue);
  const units = roundDelayMs(delayMs) / DELAY_RESOLUTION_MS;
  const bits: string[] = [];
  let entry = DELAY_OUT_EXCHANGE;
  for (const level of delayLevels()) {
    const set = Math.floor(units / 2 ** (level - LOWEST_LEVEL)) % 2 === 1;
    bits.push(set ? "1" : "0");
    if (set && entry === DELAY_OUT_EXCHANGE) entry = levelName(level);
  }
  return { exchange: entry, routingKey: `${bits.join(".")}.${queue}` };
}

/** Binding key of level `level`'s queue on its exchange: bit `level` set. */
export function levelQueuePattern(level: number): string {
  return `${"*.".repeat(HIGHEST_LEVEL - level)}1.#`;
}

/** Binding key from level `level`'s exchange to the next level down: bit `level` clear. */
export function levelPassPattern(level: number): string {
  return `${"*.".repeat(HIGHEST_LEVEL - level)}0.#`;
}

/** Binding key of a task queue on `dts.delay.out`: every bit, then exactly its name. */
export function outPattern(queue: string): string {
  checkDelayQueueName(queue);
  return `${"*.".repeat(LEVELS)}${queue}`;
}

/** Where level `level` sends a message once it has waited there. */
export function nextStop(level: number): string {
  return level === LOWEST_LEVEL ? DELAY_OUT_EXCHANGE : levelName(level - 1);
}

/** The arguments of level `level`'s quorum queue. */
export function levelQueueArguments(level: number): Record<string, unknown> {
  return {
    "x-queue-type": "quorum",
    "x-message-ttl": 2 ** level,
    "x-dead-letter-exchange": nextStop(level),
    "x-dead-letter-strategy": "at-least-once",
    // At-least-once dead-lettering requires it; with no length limit it never triggers.
    "x-overflow": "reject-publish",
  };
}

function checkDelayQueueName(queue: string): void {
  const bytes = new TextEncoder().encode(queue).length;
  if (queue === "" || bytes > 255 - LEVELS * 2) {
    throw new TypeError(
      `Cannot delay a message for queue "${queue}": the name must be 1..${255 - LEVELS * 2} bytes`,
    );
  }
  if (queue.split(".").some((word) => word === "*" || word === "#")) {
    throw new TypeError(
      `Cannot delay a message for queue "${queue}": a word "*" or "#" would be a topic wildcard`,
    );
  }
}
