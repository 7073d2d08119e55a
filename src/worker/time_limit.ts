/**
 * Celery's `timelimit` header as a task timeout.
 * @module
 */
import type { TaskDefinition } from "../plugin/task_plugin.ts";

/**
 * The task with Celery's `timelimit` header applied: the earliest of the
 * task's own timeout and the message's hard and soft limits (seconds) wins.
 */
export function withTimeLimit(
  task: TaskDefinition,
  timeLimit: readonly [number | null, number | null],
): TaskDefinition {
  const limits = timeLimit.filter((s): s is number => typeof s === "number" && s > 0)
    .map((s) => s * 1000);
  if (limits.length === 0) return task;
  const timeoutMs = Math.min(task.timeoutMs ?? Infinity, ...limits);
  return timeoutMs === task.timeoutMs ? task : { ...task, timeoutMs };
}
