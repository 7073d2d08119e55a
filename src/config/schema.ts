/**
 * The config schema: the single source of truth for `config/*.yml`.
 * snake_case YAML in, camelCase `Config` out; unknown keys are errors.
 * The rest of dts sees only `Config` and never re-validates it.
 * @module
 */
import { z } from "zod";
import { configErrorMap } from "./issue_messages.ts";
import {
  brokerSchema,
  loadSchema,
  logSchema,
  resultsSchema,
  scalingSchema,
  workerSchema,
} from "./section_schemas.ts";
import { dispatchSchema } from "./dispatch_schema.ts";
import { schedulesSchema } from "./schedule_schema.ts";
import { tasksSchema } from "./task_schema.ts";

export type { TaskConfig } from "./task_schema.ts";

/**
 * Jobs, `load.task` and `scaling` keys name a task by key; a key that `tasks`
 * does not list is allowed and resolved later by plugin name (`x` or `task_x`).
 */
export const ConfigSchema = z.strictObject({
  name: z.string().min(1).describe("Scenario name shown in reports. Required in a file."),
  broker: brokerSchema,
  tasks: tasksSchema.describe("Task key → settings over the plugin's own. Default: {}."),
  dispatch: dispatchSchema,
  results: resultsSchema,
  scaling: scalingSchema.describe("Task key → worker process bounds. Default: {}."),
  load: loadSchema,
  worker: workerSchema,
  log: logSchema,
  schedules: schedulesSchema.describe(
    "Schedule name → when `dts schedule` sends which task. Default: {}.",
  ),
});

/** A validated, compiled config: what every command works from. */
export type Config = z.output<typeof ConfigSchema>;
/** One `dispatch.jobs[]` entry. */
export type JobConfig = Config["dispatch"]["jobs"][number];
/** One `scaling.<key>` entry. */
export type ScalingConfig = Config["scaling"][string];
/** The `load` section. */
export type LoadConfig = Config["load"];
/** The `worker` section. */
export type WorkerConfig = Config["worker"];
/** One `schedules.<name>` entry. */
export type { ScheduleConfig } from "./schedule_schema.ts";
/** The `log` section. */
export type LogConfig = Config["log"];

/** The scenario name used when no config file gives one. */
export const DEFAULT_CONFIG_NAME = "dts";

/** The config commands use when no file is given: every default, and `name`. */
export function defaultConfig(name: string = DEFAULT_CONFIG_NAME): Config {
  return ConfigSchema.parse({ name }, { error: configErrorMap });
}
