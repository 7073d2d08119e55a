/**
 * Celery's remote control ("pidbox"): a worker listens on the fanout
 * exchange `celery.pidbox` and answers `ping`, `stats` and `active`, so
 * `celery inspect ping` and `dts status` see dts workers.
 * @module
 */
import type { Logger } from "../log/logger.ts";
import {
  decodeControlRequest,
  encodeControlReply,
  PIDBOX_EXCHANGE,
  PIDBOX_REPLY_EXCHANGE,
} from "../protocol/celery_control_message.ts";
import type { Transport } from "../transport/transport.ts";

/** What a worker exposes to remote control. */
export interface RemoteControlState {
  workerName: string;
  /** Task names this worker runs. */
  tasks(): string[];
  /** Queue names this worker consumes. */
  queues(): string[];
  active(): unknown[];
  stats(): Record<string, unknown>;
}

/** Pidbox queue of one worker, named the way Celery names its own. */
export function pidboxQueueName(workerName: string): string {
  return `${workerName}.celery.pidbox`;
}

/** Answer remote-control requests until `signal` aborts. */
export async function serveRemoteControl(
  transport: Transport,
  options: { state: RemoteControlState; logger: Logger; signal: AbortSignal },
): Promise<void> {
  const { state, logger, signal } = options;
  const queue = pidboxQueueName(state.workerName);
  await transport.assertExchange(PIDBOX_EXCHANGE, "fanout", { durable: false });
  await transport.assertExchange(PIDBOX_REPLY_EXCHANGE, "direct", { durable: false });
  // As Celery: not durable, gone 10 s after the worker, stale requests dropped after 300 s.
  await transport.assertQueue(queue, {
    durable: false,
    autoDelete: true,
    expiresMs: 10_000,
    messageTtlMs: 300_000,
  });
  await transport.bindQueue(queue, PIDBOX_EXCHANGE, "");
  for await (const delivery of transport.consume(queue, { prefetch: 10, signal })) {
    try {
      const request = decodeControlRequest(delivery.body, delivery.props);
      const forUs = request.destination === null || request.destination.length === 0 ||
        request.destination.includes(state.workerName);
      if (forUs && NOT_YET[request.method]) {
        // Celery broadcasts these without asking for a reply: say out loud that nothing happens.
        logger.warn("A remote-control command dts workers do not carry out yet", {
          command: request.method,
          effect: NOT_YET[request.method],
          arguments: request.arguments,
        });
      }
      if (forUs && request.replyTo !== null) {
        const value = answer(request.method, state);
        const { body, props } = encodeControlReply(state.workerName, value, request.ticket);
        await transport.publish(request.replyTo.routingKey, body, {
          ...props,
          exchange: request.replyTo.exchange,
        }).catch((error) => logger.debug("Cannot reply to remote control", { error }));
      }
    } catch (error) {
      logger.debug("Ignoring a malformed remote-control message", { error });
    }
    await delivery.ack().catch(() => {});
  }
}

/** Celery commands a dts worker receives but does not carry out yet, and what that means. */
const NOT_YET: Readonly<Record<string, string>> = {
  revoke: "the tasks named still run: revoke is not supported yet",
  terminate: "the tasks named still run: terminate is not supported yet",
  rate_limit: "the rate limit is not changed",
  time_limit: "the time limit is not changed",
  add_consumer: "no queue is added",
  cancel_consumer: "no queue is dropped",
  pool_grow: "the pool is not resized",
  pool_shrink: "the pool is not resized",
  autoscale: "the pool is not resized",
  shutdown: "the worker keeps running (stop it with SIGTERM)",
};

function answer(method: string, state: RemoteControlState): unknown {
  switch (method) {
    case "ping":
      return { ok: "pong" };
    case "active":
      return state.active();
    case "stats":
      return state.stats();
    case "registered":
      return state.tasks();
    case "active_queues":
      return state.queues().map((name) => ({ name, exchange: { name: "" }, routing_key: name }));
    case "hello":
      // Celery's start-up "mingle": nothing revoked to share.
      return { revoked: {}, clock: 0 };
    default:
      return { error: `No such command: ${method}` };
  }
}
