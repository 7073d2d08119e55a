/**
 * The task plugin contract (SPEC "Plugins") and the words used everywhere:
 *
 * - **task**: a named unit of work, e.g. `task_a`; its handler is a plugin.
 * - **plugin**: a module whose default export is a `TaskPlugin`.
 * - **job**: one configured send in a dispatch (`dispatch.jobs[]`), maybe `count` times.
 * - **message**: one task request on the wire (Celery protocol v2).
 * - **attempt**: one run of a plugin's `run` for a message.
 * - **retries**: how many attempts of this task came before this one.
 * - **worker**: a process consuming task queues and running plugins.
 * - **dispatcher**: the process sending jobs and collecting their results.
 *
 * Plugins import nothing from dts: these types describe the shape only.
 * @module
 */

/** Logging handed to a plugin; lines carry the task's id and name. */
export interface TaskLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** What a plugin's `run` receives for one attempt. */
export interface TaskContext {
  /** Task id (the same across retries). */
  id: string;
  name: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  /** Attempts before this one. */
  retries: number;
  /** Aborts at the task's timeout or when the worker stops for good. */
  signal: AbortSignal;
  log: TaskLog;
}

export { DEFAULT_RETRY_SETTINGS, type RetrySettings } from "../retry/retry_settings.ts";
import type { RetrySettings } from "../retry/retry_settings.ts";
import type { RateLimit } from "../limits/rate_limit.ts";

/**
 * A plugin's default export.
 * @example
 * export default {
 *   name: "task_a",
 *   async run(ctx) { return `Hello from Task A`; },
 * };
 */
export interface TaskPlugin {
  /** Task name on the wire (Celery task name). */
  name: string;
  /** @default "queue_" + name without a leading "task_" */
  queue?: string;
  retry?: Partial<RetrySettings>;
  /** On expiry `ctx.signal` aborts and the attempt fails. */
  timeoutMs?: number;
  /**
   * Starts per time across ALL workers of the fleet (not per worker):
   * `"20/s"`, `"100/m"`, `"500/h"`, or a number per second.
   */
  rateLimit?: string | number;
  /** How many may run at once across ALL workers of the fleet, 1..256. */
  maxConcurrency?: number;
  /** What it may do (network, files, env, programs); nothing by default. */
  permissions?: PluginPermissions;
  /** Returns the JSON-serialisable result; throws to fail the attempt (`retryable === false` fails at once). */
  run(ctx: TaskContext): unknown;
}

/** A plugin after loading and merging with config: every setting decided. */
export interface TaskDefinition {
  name: string;
  queue: string;
  retry: RetrySettings;
  /** null: no timeout. */
  timeoutMs: number | null;
  /** Its queue's `x-max-priority` (config `tasks.<key>.max_priority`); absent: not a priority queue. */
  maxPriority?: number;
  /** Fleet-wide starts per time; absent: none. */
  rateLimit?: RateLimit;
  /** Fleet-wide attempts at once; absent: no limit. */
  maxConcurrency?: number;
  /** The handler, for running on the worker's own thread (tests, embedding). */
  run?(ctx: TaskContext): unknown;
  /** The plugin module (`file:` URL), for running in a plugin host. */
  module?: string;
  /** What the plugin may do in its host. @default none */
  permissions?: PluginPermissions;
  /** Where it was loaded from, for messages. */
  source: string;
}

/**
 * What a plugin may do when it runs in a host: nothing unless it says so.
 * Paths are relative to the worker's working directory; a plugin may always
 * read its own folder (so that it can be imported).
 * @example
 * permissions: { net: ["api.example.com:443"], read: ["./data"], env: ["API_TOKEN"] }
 */
export interface PluginPermissions {
  /** Hosts (and ports) it may connect to; `true` for any. */
  net?: readonly string[] | boolean;
  /** Paths it may read. */
  read?: readonly string[] | boolean;
  /** Paths it may write. */
  write?: readonly string[] | boolean;
  /** Environment variables it may read. */
  env?: readonly string[] | boolean;
  /** Programs it may run. */
  run?: readonly string[] | boolean;
  /** System information it may read (`hostname`, `loadavg`, …). */
  sys?: readonly string[] | boolean;
}

/** The queue a task uses when nothing names one: `task_a` → `queue_a`. */
export function defaultQueueName(taskName: string): string {
  return `queue_${taskName.replace(/^task_/, "")}`;
}
