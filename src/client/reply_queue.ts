/**
 * The queue a sender (dispatcher, load test) collects its results from.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { BrokerError } from "../errors.ts";
import { backoffDelayMs } from "../retry/backoff.ts";
import type { Transport } from "../transport/transport.ts";

/** Options of `openReplyQueue()`. */
export interface ReplyQueueOptions {
  /** The queue's name. @default `<prefix>.<uuid>` */
  name?: string;
  /** @default "dts.reply" */
  prefix?: string;
  /** The sender's per-task timeout. */
  timeoutMs: number;
  /** Deleted by the broker after this long without a consumer. @default timeoutMs + 5 minutes */
  expiresMs?: number;
  /**
   * The configured queue type: on a cluster with quorum queues the replies
   * must survive the loss of a node too. @default "classic"
   */
  type?: "classic" | "quorum";
}

/**
 * Declare a reply queue. It is durable and not exclusive, so it outlives a
 * dropped connection or a broker restart, and it expires when unused for
 * `expiresMs`, so a sender that dies leaves nothing behind for long.
 * Resolves to its name.
 */
export async function openReplyQueue(
  transport: Transport,
  options: ReplyQueueOptions,
): Promise<string> {
  const name = options.name ?? `${options.prefix ?? "dts.reply"}.${crypto.randomUUID()}`;
  await transport.assertQueue(name, {
    durable: true,
    expiresMs: options.expiresMs ?? options.timeoutMs + 300_000,
    type: options.type,
  });
  return name;
}

/**
 * Delete a reply queue once the sender is done, retrying across a dropped
 * connection (the transport reconnects by itself); if it still fails, the
 * queue's own expiry removes it.
 */
export async function closeReplyQueue(
  transport: Transport,
  name: string,
  clock: Clock = systemClock,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await transport.deleteQueue(name);
    } catch (error) {
      if (!(error instanceof BrokerError) || !error.recoverable) return;
      await clock.sleep(backoffDelayMs(attempt, { baseMs: 200, maxMs: 1000 }));
    }
  }
}
