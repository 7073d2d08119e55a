/**
 * Which live workers serve a dispatch's queues: asked with Celery's
 * remote-control `active_queues`, which dts and Celery workers both answer
 * with the queues they consume. A worker alive on the broker but consuming
 * other queues does not count towards `dispatch.expected_workers`.
 * @module
 */
import { inspectWorkers } from "./inspect_workers.ts";
import type { Transport } from "../transport/transport.ts";

/** Who answered, and who of them consumes at least one of the queues. */
export interface ServingWorkers {
  /** Workers consuming at least one of the queues, sorted. */
  serving: string[];
  /** Every worker that answered, sorted. */
  answered: string[];
}

/** The queue names in an `active_queues` reply (`[{ name, exchange, routing_key }, …]`). */
export function activeQueueNames(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((entry) => {
    const name = (entry as { name?: unknown } | null)?.name;
    return typeof name === "string" ? [name] : [];
  });
}

/** Split `active_queues` replies into the workers serving `queues` and all that answered. */
export function servingWorkers(
  replies: ReadonlyMap<string, unknown>,
  queues: readonly string[],
): ServingWorkers {
  const wanted = new Set(queues);
  const answered = [...replies.keys()].sort();
  const serving = answered.filter((worker) =>
    activeQueueNames(replies.get(worker)).some((queue) => wanted.has(queue))
  );
  return { serving, answered };
}

/**
 * Ask every worker which queues it consumes. With `expected`, stop once that
 * many answered; when they do not all serve `queues`, ask again and wait the
 * whole timeout, so a busy broker with other workers does not hide ours.
 */
export async function findServingWorkers(
  transport: Transport,
  queues: readonly string[],
  options: { timeoutMs?: number; expected?: number } = {},
): Promise<ServingWorkers> {
  const ask = (expected?: number) =>
    inspectWorkers(transport, { method: "active_queues", timeoutMs: options.timeoutMs, expected });
  const first = servingWorkers(await ask(options.expected), queues);
  const stoppedEarly = options.expected !== undefined &&
    first.answered.length >= options.expected;
  if (!stoppedEarly || first.serving.length >= (options.expected ?? 0)) return first;
  return servingWorkers(await ask(), queues);
}
