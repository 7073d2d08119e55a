/**
 * What to do with a message the broker delivered before (the poison guard).
 *
 * A redelivery this worker caused itself (its own channel or connection
 * died) runs as usual. Any other means a worker died holding the message: a
 * crash, an OOM, a SIGKILL, or a plugin that took its process down. Such a
 * message is counted in `x-dts-redeliveries` on a copy put back at the
 * queue's tail; past the limit it is dead-lettered, so a task that keeps
 * killing workers stops doing so on every queue type (RabbitMQ counts
 * deliveries only on quorum queues). Tasks that happened to run beside it
 * are counted too, but moving to the tail spreads them apart from it.
 * @module
 */

import { REDELIVERIES_HEADER } from "../protocol/dts_headers.ts";

/** The decision for one delivery. */
export type RedeliveryVerdict =
  | { action: "run" }
  /** Put a copy back with this count, run nothing now. */
  | { action: "count"; redeliveries: number }
  /** Dead-letter it: it was unacknowledged when a worker died this many times. */
  | { action: "poison"; redeliveries: number };

/** Judge a delivery; `ours` when this worker took it before and never settled it. */
export function judgeRedelivery(
  delivery: { redelivered: boolean; headers: Record<string, unknown> },
  options: { ours: boolean; maxRedeliveries: number },
): RedeliveryVerdict {
  if (!delivery.redelivered || options.ours || options.maxRedeliveries === 0) {
    return { action: "run" };
  }
  const before = delivery.headers[REDELIVERIES_HEADER];
  const count =
    (typeof before === "number" && Number.isInteger(before) && before >= 0 ? before : 0) +
    1;
  return count > options.maxRedeliveries
    ? { action: "poison", redeliveries: count }
    : { action: "count", redeliveries: count };
}
