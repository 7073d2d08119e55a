/**
 * The zod guard for a plugin's default export: a plugin is untrusted input.
 * @module
 */
import { z } from "zod";
import { maxConcurrencySchema, rateLimitSchema } from "../limits/limit_schema.ts";
import { retrySettingsProblems } from "../retry/retry_settings.ts";
import type { TaskPlugin } from "./task_plugin.ts";

const retrySchema = z.strictObject({
  maxRetries: z.number().optional(),
  backoffMs: z.number().optional(),
  factor: z.number().optional(),
  maxBackoffMs: z.number().optional(),
  jitter: z.boolean().optional(),
}).superRefine((retry, ctx) => {
  // The rules every way of writing retry settings shares.
  for (const problem of retrySettingsProblems(retry)) {
    ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
  }
});

const grant = z.union([z.boolean(), z.array(z.string().min(1))]).optional();
const permissionsSchema = z.strictObject({
  net: grant,
  read: grant,
  write: grant,
  env: grant,
  run: grant,
  sys: grant,
});

/** Shape of a valid plugin module's default export. */
export const taskPluginSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, "must be a task name such as task_a"),
  queue: z.string().min(1).optional(),
  retry: retrySchema.optional(),
  timeoutMs: z.number().positive().optional(),
  rateLimit: rateLimitSchema.optional(),
  maxConcurrency: maxConcurrencySchema.optional(),
  permissions: permissionsSchema.optional(),
  run: z.custom<TaskPlugin["run"]>((value) => typeof value === "function", {
    message: 'has no "run" function',
  }),
});

/** Describe every problem of a plugin's default export in one phrase, or null when it is valid. */
export function describePluginProblems(value: unknown): string | null {
  if (value === undefined) return "has no default export";
  if (typeof value !== "object" || value === null) return "default export is not an object";
  const parsed = taskPluginSchema.safeParse(value);
  if (parsed.success) return null;
  return parsed.error.issues.map((issue) => {
    const path = issue.path.join(".");
    if (path === "run") return 'default export has no "run" function';
    if (issue.code === "unrecognized_keys") {
      return `default export ${path} has unknown key(s) ${
        issue.keys.map((k) => `"${k}"`).join(", ")
      }`;
    }
    const isMissing = issue.code === "invalid_type" && issue.message.includes("undefined");
    return `default export "${path}" ${isMissing ? "is missing" : issue.message}`;
  }).join("; ");
}
