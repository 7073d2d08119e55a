/**
 * The zod fields for a task's limits, shared by config (`rate_limit`,
 * `max_concurrency`) and plugins (`rateLimit`, `maxConcurrency`).
 * @module
 */
import { z } from "zod";
import { MAX_CONCURRENCY_LIMIT } from "./limit_queues.ts";
import { parseRateLimit, type RateLimit } from "./rate_limit.ts";

/** `20/s`, `100/m`, `500/h` or a number per second, parsed. */
export const rateLimitSchema = z.union([z.string(), z.number()]).transform(
  (value, ctx): RateLimit => {
    try {
      return parseRateLimit(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  },
);

/** How many of a task may run at once across the fleet. */
export const maxConcurrencySchema = z.number().int().min(1).max(MAX_CONCURRENCY_LIMIT);
