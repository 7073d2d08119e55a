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
import type { RevokeCommand } from "./fleet_revocations.ts";

/** What a worker exposes to remote control. */
export interface RemoteControlState {
  workerName: string;
  /** Task names this worker runs. */
  tasks(): string[];
  /** Queue names this worker consumes. */
  queues(): string[];
  active(): unknown[];
  /** Received, waiting to start (for a fleet-wide limit). */
  reserved(): unknown[];
  stats(): Record<string, unknown>;
  /** Carry out a broadcast `revoke`. */
  revoke(command: RevokeCommand): Promise<void>;
  /** Revoked task ids, for `inspect revoked` and Celery's start-up `hello`. */
  revoked(): string[];
  /** Send a `worker-heartbeat` event now (with events on), as `celery events` and Flower ask on start. */
  heartbeat?(): void;
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
      if (forUs && request.method === "revoke") {
        await state.revoke(revokeCommand(request.arguments));
      }
      if (forUs && request.method === "heartbeat") state.heartbeat?.();
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
    case "reserved":
      return state.reserved();
    case "stats":
      return state.stats();
    case "registered":
      return state.tasks();
    case "active_queues":
      return state.queues().map((name) => ({ name, exchange: { name: "" }, routing_key: name }));
    case "hello":
      // Celery's start-up "mingle": share what is revoked (Celery's LimitedSet as a dict).
      return { revoked: Object.fromEntries(state.revoked().map((id) => [id, 0])), clock: 0 };
    case "revoked":
      return state.revoked();
    case "revoke":
      return { ok: "tasks revoked" };
    case "heartbeat":
      return { ok: "heartbeat sent" };
    default:
      return { error: `No such command: ${method}` };
  }
}

/**
 * Celery's `revoke` arguments: `task_id` (one id or a list), `terminate`,
 * `signal` (ignored: dts aborts `ctx.signal`); dts adds `reason` and
 * `dts_logged` (its sender wrote the revocation to the stream already).
 */
function revokeCommand(args: Record<string, unknown>): RevokeCommand {
  const raw = args.task_id;
  const ids = (Array.isArray(raw) ? raw : [raw]).filter((id): id is string =>
    typeof id === "string" && id !== ""
  );
  return {
    taskIds: ids.slice(0, 10_000),
    terminate: args.terminate === true,
    reason: typeof args.reason === "string" ? args.reason.slice(0, 1000) : undefined,
    logged: args.dts_logged === true,
  };
}
