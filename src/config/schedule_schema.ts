/**
 * The `schedules` section: name → when to send which task, for
 * `dts schedule`. Exactly one of `cron` and `every` per schedule.
 * @module
 */
import { z } from "zod";
import { cronProblem, type ScheduleTimes } from "../schedule/schedule_times.ts";
import { durationMs, section, taskKey } from "./schema_fields.ts";

/** What to do after a time with no scheduler leading: fire the latest missed slot, or none. */
export type CatchUp = "latest" | "none";

/** One compiled `schedules.<name>` entry. */
export interface ScheduleConfig {
  name: string;
  /** A `tasks` key or a plugin's name, as a job's `task`. */
  task: string;
  times: ScheduleTimes;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** Fire up to this long after the slot, at random (the task id stays the slot's). */
  jitterMs: number;
  catchUp: CatchUp;
}

const scheduleEntry = z.strictObject({
  task: taskKey().describe("A key of `tasks`, or a plugin's name. Required."),
  cron: z.string().min(1).optional().describe(
    'A cron pattern: 5 fields ("*/5 * * * *") or 6 with seconds first. Not with every.',
  ),
  every: durationMs({ positive: true }).optional().describe(
    "An interval, e.g. 30s; slots are its multiples since the epoch. Not with cron.",
  ),
  timezone: z.string().min(1).optional().describe(
    "The cron pattern's IANA timezone, e.g. Europe/Berlin. Default: UTC.",
  ),
  args: z.array(z.unknown()).default([]).describe("Positional arguments. Default: []."),
  kwargs: z.record(z.string(), z.unknown()).default({}).describe("Keyword arguments. Default: {}."),
  jitter: durationMs().default(0).describe("Fire up to this long after the slot. Default: 0."),
  catch_up: z.enum(["latest", "none"]).default("latest").describe(
    "After a time with no scheduler alive: latest fires the latest missed slot once, none skips them. Default: latest.",
  ),
}).superRefine((entry, ctx) => {
  if ((entry.cron === undefined) === (entry.every === undefined)) {
    ctx.addIssue({ code: "custom", path: [], message: "needs exactly one of cron and every" });
  }
  if (entry.every !== undefined && entry.every < 1000) {
    ctx.addIssue({ code: "custom", path: ["every"], message: "must be at least 1s" });
  }
  if (entry.timezone !== undefined && entry.cron === undefined) {
    ctx.addIssue({ code: "custom", path: ["timezone"], message: "applies to cron only" });
  }
  if (entry.cron !== undefined) {
    const problem = cronProblem(entry.cron, entry.timezone);
    if (problem !== null) {
      const path = problem.startsWith("unknown timezone") ? ["timezone"] : ["cron"];
      ctx.addIssue({ code: "custom", path, message: problem });
    }
  }
});

/** `schedules`: name → schedule. */
export const schedulesSchema = section(
  z.record(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, "must be a name of letters, digits, _, . or -"),
    scheduleEntry,
  ).transform((entries): Record<string, ScheduleConfig> =>
    Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => [name, {
        name,
        task: entry.task,
        times: entry.every !== undefined ? { kind: "every", everyMs: entry.every } : {
          kind: "cron",
          pattern: entry.cron!,
          ...(entry.timezone === undefined ? {} : { timezone: entry.timezone }),
        },
        args: entry.args,
        kwargs: entry.kwargs,
        jitterMs: entry.jitter,
        catchUp: entry.catch_up,
      }]),
    )
  ),
);
