/**
 * The queue a sender (dispatcher, load test) collects its results from.
 * @module
 */
import { BrokerError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/**
 * Declare a fresh reply queue. It is durable and not exclusive, so it
 * outlives a dropped connection or a broker restart, and it expires when
 * unused for `timeoutMs` plus 5 minutes, so a sender that dies leaves nothing
 * behind for long. Resolves to its name.
 */
export async function openReplyQueue(
  transport: Transport,
  options: { prefix: string; timeoutMs: number },
): Promise<string> {
  const name = `${options.prefix}.${crypto.randomUUID()}`;
  await transport.assertQueue(name, { durable: true, expiresMs: options.timeoutMs + 300_000 });
  return name;
}

/**
 * Delete a reply queue once the sender is done, retrying across a dropped
 * connection (the transport reconnects by itself); if it still fails, the
 * queue's own expiry removes it.
 */
export async function closeReplyQueue(transport: Transport, name: string): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await transport.deleteQueue(name);
    } catch (error) {
      if (!(error instanceof BrokerError) || !error.recoverable) return;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
