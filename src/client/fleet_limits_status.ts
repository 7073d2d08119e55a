/**
 * The fleet-wide limits as `dts status` shows them: put together from what
 * each worker's `stats` says of its share, and the depth of each token
 * bucket on the broker.
 * @module
 */
import { tokenQueueName } from "../limits/limit_queues.ts";
import type { TaskLimitState } from "../limits/task_limits.ts";
import type { Transport } from "../transport/transport.ts";

/** One limited task, fleet-wide. */
export interface FleetLimitStatus {
  task: string;
  rate_limit: string | null;
  /** The worker refilling the tokens now; null when none says it is (none alive, or mid-failover). */
  leader: string | null;
  /** Tokens in the bucket, not yet taken. */
  tokens_waiting: number | null;
  max_concurrency: number | null;
  /** Slots held now, summed over the workers. */
  slots_in_use: number | null;
  /** Tasks received and waiting for a token or a slot, summed over the workers. */
  waiting: number;
}

/** Each task some worker says is limited, sorted by name. */
export async function fleetLimitsStatus(
  transport: Transport,
  stats: ReadonlyMap<string, unknown>,
): Promise<FleetLimitStatus[]> {
  const byTask = new Map<string, FleetLimitStatus>();
  for (const [worker, value] of stats) {
    const limits = (value as { limits?: unknown } | null)?.limits;
    if (typeof limits !== "object" || limits === null) continue;
    for (const [task, raw] of Object.entries(limits as Record<string, TaskLimitState>)) {
      const state = byTask.get(task) ?? {
        task,
        rate_limit: null,
        leader: null,
        tokens_waiting: null,
        max_concurrency: null,
        slots_in_use: null,
        waiting: 0,
      };
      if (typeof raw.rate_limit === "string") state.rate_limit = raw.rate_limit;
      if (raw.leader === true) state.leader = worker;
      if (typeof raw.max_concurrency === "number") state.max_concurrency = raw.max_concurrency;
      if (typeof raw.slots_held === "number") {
        state.slots_in_use = (state.slots_in_use ?? 0) + raw.slots_held;
      }
      if (typeof raw.waiting === "number") state.waiting += raw.waiting;
      byTask.set(task, state);
    }
  }
  const out = [...byTask.values()].sort((a, b) => a.task.localeCompare(b.task));
  await Promise.all(out.map(async (state) => {
    if (state.rate_limit === null) return;
    state.tokens_waiting = (await transport.inspectQueue(tokenQueueName(state.task)))?.messages ??
      null;
  }));
  return out;
}
