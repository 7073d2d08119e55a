/**
 * A task must end before RabbitMQ takes its message back. RabbitMQ closes
 * the channel of a consumer that holds a message unacknowledged longer than
 * its `consumer_timeout` (30 minutes by default) and hands the message to
 * another worker while the first still runs it: two runs, two results.
 * @module
 */
import { UsageError } from "../errors.ts";
import type { TaskDefinition } from "../plugin/task_plugin.ts";

/**
 * Refuse a task whose time limit (plus the grace a plugin has to let go)
 * reaches the broker's consumer timeout; warn about a task with no limit.
 * @throws {UsageError} naming the task, its limit and how to fix it
 */
export function checkTimeLimits(
  tasks: readonly TaskDefinition[],
  options: {
    consumerTimeoutMs: number;
    killGraceMs: number;
    warn(msg: string, fields: Record<string, unknown>): void;
  },
): void {
  const { consumerTimeoutMs, killGraceMs } = options;
  for (const task of tasks) {
    if (task.timeoutMs === null) {
      options.warn(
        "Task has no time limit: RabbitMQ takes its message back after consumer_timeout",
        {
          task: task.name,
          consumer_timeout_ms: consumerTimeoutMs,
          fix: "set tasks.<key>.timeout or worker.task_timeout below broker.consumer_timeout",
        },
      );
      continue;
    }
    if (task.timeoutMs + killGraceMs >= consumerTimeoutMs) {
      throw new UsageError(
        `Cannot start worker: task "${task.name}" may run ${formatMs(task.timeoutMs)} (+ ${
          formatMs(killGraceMs)
        } worker.kill_grace), not less than the broker's consumer_timeout of ${
          formatMs(consumerTimeoutMs)
        }, after which RabbitMQ hands the message to another worker while it still runs; ` +
          `lower the task's timeout, or raise broker.consumer_timeout together with RabbitMQ's consumer_timeout`,
      );
    }
  }
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
