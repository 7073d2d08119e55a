/**
 * Ask every worker on the broker to answer a remote-control request
 * (Celery's `inspect`), dts and Celery workers alike.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { UnroutableError } from "../errors.ts";
import {
  decodeControlReply,
  encodeControlRequest,
  PIDBOX_EXCHANGE,
  PIDBOX_REPLY_EXCHANGE,
} from "../protocol/celery_control_message.ts";
import type { Transport } from "../transport/transport.ts";

/** Options for one broadcast. */
export interface InspectOptions {
  /** Control method, e.g. `ping`, `stats`, `active`. @default "ping" */
  method?: string;
  arguments?: Record<string, unknown>;
  /** How long to collect replies. @default 1000 */
  timeoutMs?: number;
  /** Stop waiting once this many workers answered. */
  expected?: number;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Broadcast a control request and collect the replies by worker name.
 * No workers at all is an empty result, not an error.
 */
export async function inspectWorkers(
  transport: Transport,
  options: InspectOptions = {},
): Promise<Map<string, unknown>> {
  const replies = new Map<string, unknown>();
  const ticket = crypto.randomUUID();
  const replyQueue = `dts.pidbox.reply.${ticket}`;
  const timeoutMs = options.timeoutMs ?? 1000;
  await transport.assertExchange(PIDBOX_EXCHANGE, "fanout", { durable: false });
  await transport.assertExchange(PIDBOX_REPLY_EXCHANGE, "direct", { durable: false });
  await transport.assertQueue(replyQueue, {
    durable: false,
    autoDelete: true,
    expiresMs: timeoutMs + 10_000,
  });
  await transport.bindQueue(replyQueue, PIDBOX_REPLY_EXCHANGE, replyQueue);

  const clock = options.clock ?? systemClock;
  const stop = new AbortController();
  clock.sleep(timeoutMs, stop.signal).then(() => stop.abort(), () => {});
  const collected = (async () => {
    for await (
      const delivery of transport.consume(replyQueue, { prefetch: 100, signal: stop.signal })
    ) {
      try {
        const reply = decodeControlReply(delivery.body, delivery.props);
        if (reply.ticket === null || reply.ticket === ticket) {
          for (const [worker, value] of Object.entries(reply.replies)) replies.set(worker, value);
        }
      } catch {
        // Not a reply we understand: someone else's traffic.
      }
      await delivery.ack().catch(() => {});
      if (options.expected !== undefined && replies.size >= options.expected) stop.abort();
    }
  })();

  try {
    const { body, props } = encodeControlRequest({
      method: options.method ?? "ping",
      arguments: options.arguments ?? {},
      destination: null,
      ticket,
      replyTo: { exchange: PIDBOX_REPLY_EXCHANGE, routingKey: replyQueue },
    }, { expiresAt: (clock.now() + timeoutMs) / 1000 });
    await transport.publish("", body, { ...props, exchange: PIDBOX_EXCHANGE });
  } catch (error) {
    // Nobody bound to the pidbox exchange: no workers are listening.
    if (!(error instanceof UnroutableError)) {
      stop.abort();
      await collected;
      throw error;
    }
    stop.abort();
  }
  await collected;
  stop.abort();
  await transport.deleteQueue(replyQueue).catch(() => {});
  return replies;
}

/** Names of the workers that answer a ping within `timeoutMs`, sorted. */
export async function pingWorkers(
  transport: Transport,
  options: { timeoutMs?: number; expected?: number } = {},
): Promise<string[]> {
  const replies = await inspectWorkers(transport, { method: "ping", ...options });
  return [...replies.keys()].sort();
}
