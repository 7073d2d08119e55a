/**
 * The `tasks` section: per-task settings keyed by short name (`a`), which
 * override a plugin's own settings. Partial retry settings stay partial here:
 * the plugin resolver merges config over plugin over defaults.
 * @module
 */
import { z } from "zod";
import {
  type RetryField,
  type RetrySettings,
  retrySettingsProblems,
} from "../retry/retry_settings.ts";
import { maxConcurrencySchema, rateLimitSchema } from "../limits/limit_schema.ts";
import type { RateLimit } from "../limits/rate_limit.ts";
import { durationMs, section, taskKey } from "./schema_fields.ts";

/** `tasks.<key>.retry`: every field optional; unset fields come from the plugin, then the defaults. */
export const retrySchema = z.strictObject({
  max_retries: z.number().int().optional().describe("Retries after the first attempt, >= 0."),
  backoff: durationMs().optional().describe("First retry delay, e.g. 500ms."),
  factor: z.number().optional().describe("Delay multiplier per retry, >= 1."),
  max_backoff: durationMs().optional().describe("Cap on the retry delay; >= backoff."),
  jitter: z.boolean().optional().describe("Wait a random time up to the computed delay."),
}).transform((retry): Partial<RetrySettings> => {
  const out: Partial<RetrySettings> = {};
  if (retry.max_retries !== undefined) out.maxRetries = retry.max_retries;
  if (retry.backoff !== undefined) out.backoffMs = retry.backoff;
  if (retry.factor !== undefined) out.factor = retry.factor;
  if (retry.max_backoff !== undefined) out.maxBackoffMs = retry.max_backoff;
  if (retry.jitter !== undefined) out.jitter = retry.jitter;
  return out;
}).superRefine((retry, ctx) => {
  // The rules every way of writing retry settings shares, named as YAML writes them.
  for (const problem of retrySettingsProblems(retry, { name: (field) => YAML_NAMES[field] })) {
    ctx.addIssue({ code: "custom", path: [YAML_NAMES[problem.field]], message: problem.message });
  }
});

const YAML_NAMES: Readonly<Record<RetryField, string>> = {
  maxRetries: "max_retries",
  backoffMs: "backoff",
  factor: "factor",
  maxBackoffMs: "max_backoff",
  jitter: "jitter",
};

const taskEntrySchema = section(z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "must be a task name such as task_a").optional()
    .describe("Task name on the wire. Default: task_<key>."),
  queue: z.string().min(1).optional().describe(
    "Queue to consume and send to. Default: queue_<key>.",
  ),
  retry: section(retrySchema).describe("Retry settings; unset fields come from the plugin."),
  timeout: durationMs({ positive: true }).optional()
    .describe("Per-attempt time limit. Default: the plugin's, else none."),
  max_priority: z.number().int().min(1).max(255).optional().describe(
    "Declare the queue as a priority queue (x-max-priority, 1..255; RabbitMQ advises <= 10). Classic queues only.",
  ),
  rate_limit: rateLimitSchema.optional().describe(
    "Starts per time across ALL workers (fleet-wide): 20/s, 100/m, 500/h. Default: the plugin's, else none.",
  ),
  max_concurrency: maxConcurrencySchema.optional().describe(
    "Attempts at once across ALL workers (fleet-wide), 1..256. Default: the plugin's, else none.",
  ),
}));

/** One task's compiled settings (`tasks.<key>`). */
export interface TaskConfig {
  /** The key it is listed under, e.g. `a`. */
  key: string;
  /** Task name on the wire, default `task_<key>`. */
  name: string;
  /** Default `queue_<key>`. */
  queue: string;
  /** Only what the config sets; merged over the plugin's settings later. */
  retry: Partial<RetrySettings>;
  /** Absent: the plugin's timeout, else none. */
  timeoutMs?: number;
  /** The queue's `x-max-priority`; absent: not a priority queue. */
  maxPriority?: number;
  /** Fleet-wide; absent: the plugin's, else none. */
  rateLimit?: RateLimit;
  /** Fleet-wide; absent: the plugin's, else none. */
  maxConcurrency?: number;
}

/** `tasks`: map of task key → settings. Two keys may not share a task name or a queue. */
export const tasksSchema = section(
  z.record(taskKey(), taskEntrySchema).transform((entries): Record<string, TaskConfig> => {
    const tasks: Record<string, TaskConfig> = {};
    for (const [key, entry] of Object.entries(entries)) {
      const task: TaskConfig = {
        key,
        name: entry.name ?? `task_${key}`,
        queue: entry.queue ?? `queue_${key}`,
        retry: entry.retry,
      };
      if (entry.timeout !== undefined) task.timeoutMs = entry.timeout;
      if (entry.max_priority !== undefined) task.maxPriority = entry.max_priority;
      if (entry.rate_limit !== undefined) task.rateLimit = entry.rate_limit;
      if (entry.max_concurrency !== undefined) task.maxConcurrency = entry.max_concurrency;
      tasks[key] = task;
    }
    return tasks;
  }).superRefine((tasks, ctx) => {
    const seen = { name: new Map<string, string>(), queue: new Map<string, string>() };
    for (const task of Object.values(tasks)) {
      for (const field of ["name", "queue"] as const) {
        const other = seen[field].get(task[field]);
        if (other === undefined) {
          seen[field].set(task[field], task.key);
        } else {
          ctx.addIssue({
            code: "custom",
            path: [task.key, field],
            message: `must be unique: "${task[field]}" is also the ${field} of tasks.${other}`,
          });
        }
      }
    }
  }),
);
