/**
 * Revoke tasks fleet-wide: written to the revocation stream (so that the
 * workers that start later, and a dispatcher waiting on them, learn of it),
 * then broadcast as Celery's `revoke` on `celery.pidbox` (so that running
 * workers act at once, Celery's among them).
 * @module
 */
import { logRevocations, newRevocation } from "../control/revocation_log.ts";
import type { Revocation } from "../control/revoked_set.ts";
import { UnroutableError } from "../errors.ts";
import { encodeControlRequest, PIDBOX_EXCHANGE } from "../protocol/celery_control_message.ts";
import type { Transport } from "../transport/transport.ts";

/** Options of `revokeTasks()`. */
export interface RevokeOptions {
  /** Also stop the tasks where they run (their `ctx.signal` aborts). @default false */
  terminate?: boolean;
  /** What their REVOKED result says. @default "revoked" */
  reason?: string;
  /** Epoch ms. @default Date.now() */
  now?: number;
}

/** What `revokeTasks()` did. */
export interface RevokeOutcome {
  revocations: Revocation[];
  /** In the stream: workers that start later honour them too. */
  stored: boolean;
  /** Why they are not stored (the stream is down: RabbitMQ 3.10 can leave one down after a crash). */
  problem: string | null;
}

/** How long the stream may take to take the revocations before the broadcast goes out without. */
const STORE_WITHIN_MS = 5000;

/**
 * Revoke `taskIds`: stored in the stream (when it takes them within
 * `STORE_WITHIN_MS`), then broadcast to the live workers either way.
 */
export async function revokeTasks(
  transport: Transport,
  taskIds: readonly string[],
  options: RevokeOptions = {},
): Promise<RevokeOutcome> {
  const now = options.now ?? Date.now();
  const revocations = [...new Set(taskIds)].map((id) =>
    newRevocation(id, { terminate: options.terminate, reason: options.reason, now })
  );
  if (revocations.length === 0) return { revocations, stored: true, problem: null };
  let problem: string | null = null;
  try {
    await logRevocations(transport, revocations, { signal: AbortSignal.timeout(STORE_WITHIN_MS) });
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  await transport.assertExchange(PIDBOX_EXCHANGE, "fanout", { durable: false });
  const { body, props } = encodeControlRequest({
    method: "revoke",
    arguments: {
      task_id: revocations.map((revocation) => revocation.taskId),
      terminate: options.terminate ?? false,
      signal: "SIGTERM",
      reason: options.reason ?? "revoked",
      // Not stored: each worker that hears it stores it (or keeps it, and shares it with newcomers).
      dts_logged: problem === null,
    },
    destination: null,
    ticket: "",
    replyTo: null,
  });
  try {
    await transport.publish("", body, { ...props, exchange: PIDBOX_EXCHANGE });
  } catch (error) {
    // No worker is listening now: the stream is what later ones read.
    if (!(error instanceof UnroutableError)) throw error;
  }
  return { revocations, stored: problem === null, problem };
}
