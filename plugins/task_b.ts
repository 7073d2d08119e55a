/**
 * Built-in task B: 200 ms of simulated work, then a greeting.
 * `kwargs.work_ms` or `args[0]` sets another work time in ms.
 */
import { simulateWork, workTime } from "./lib/simulated_work.ts";

export default {
  name: "task_b",
  queue: "queue_b",
  retry: { maxRetries: 3, backoffMs: 500, factor: 2, maxBackoffMs: 30_000, jitter: true },
  timeoutMs: 30_000,
  async run(
    ctx: {
      args: readonly unknown[];
      kwargs: Readonly<Record<string, unknown>>;
      signal: AbortSignal;
    },
  ): Promise<string> {
    await simulateWork(workTime(ctx, 200), ctx.signal);
    return "Hello from Task B";
  },
};
