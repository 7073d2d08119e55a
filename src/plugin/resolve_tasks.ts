/**
 * Turn plugins plus config into task definitions, and pick the ones a
 * command names (`--task a`, a dispatch job's `task: a`).
 * @module
 */
import { UsageError } from "../errors.ts";
import { parseRateLimit, type RateLimit } from "../limits/rate_limit.ts";
import type { LoadedPlugin } from "./load_plugins.ts";
import {
  DEFAULT_RETRY_SETTINGS,
  defaultQueueName,
  type RetrySettings,
  type TaskDefinition,
} from "./task_plugin.ts";

/** What config says about one task (`tasks.<key>`), already compiled. */
export interface TaskSettings {
  key: string;
  name: string;
  queue?: string;
  retry?: Partial<RetrySettings>;
  timeoutMs?: number;
  maxPriority?: number;
  rateLimit?: RateLimit;
  maxConcurrency?: number;
}

/** A task named by a command or job, before its plugin is known: enough to send to it. */
export interface TaskRoute {
  /** What the user typed, e.g. `a`. */
  key: string;
  name: string;
  queue: string;
  /** The queue's `x-max-priority` (`tasks.<key>.max_priority`); absent: not a priority queue. */
  maxPriority?: number;
}

/**
 * Find which task `ref` means: a config key, else a plugin named `ref` or `task_<ref>`,
 * else (with `allowUnknown`) the conventional `task_<ref>` on `queue_<ref>`.
 * @throws {UsageError} when nothing matches and unknown tasks are not allowed
 */
export function resolveRoute(
  ref: string,
  sources: {
    tasks: Readonly<Record<string, TaskSettings>>;
    plugins: readonly LoadedPlugin[];
    allowUnknown?: boolean;
  },
): TaskRoute {
  const configured = sources.tasks[ref] ??
    Object.values(sources.tasks).find((task) => task.name === ref);
  const plugin = findPlugin(configured?.name ?? ref, sources.plugins);
  if (configured) {
    return {
      key: configured.key,
      name: configured.name,
      queue: configured.queue ?? plugin?.plugin.queue ?? defaultQueueName(configured.name),
      ...(configured.maxPriority === undefined ? {} : { maxPriority: configured.maxPriority }),
    };
  }
  if (plugin) {
    const name = plugin.plugin.name;
    return { key: ref, name, queue: plugin.plugin.queue ?? defaultQueueName(name) };
  }
  if (sources.allowUnknown) {
    const name = ref.startsWith("task_") ? ref : `task_${ref}`;
    return { key: ref, name, queue: defaultQueueName(name) };
  }
  throw new UsageError(
    `Cannot find task "${ref}": neither a config tasks entry nor a plugin named "${ref}" or "task_${ref}" (known: ${
      listOrNone(knownTaskRefs(sources))
    })`,
  );
}

/**
 * What a command or job may name: every config `tasks` key (a Celery-only task
 * needs no plugin: the config is its declaration), then every plugin that no
 * entry already names.
 */
export function knownTaskRefs(
  sources: { tasks: Readonly<Record<string, TaskSettings>>; plugins: readonly LoadedPlugin[] },
): string[] {
  const configured = Object.values(sources.tasks);
  const names = new Set(configured.map((task) => task.name));
  return [
    ...configured.map((task) => task.key),
    ...sources.plugins.map((p) => p.plugin.name).filter((name) => !names.has(name)),
  ];
}

/** Whether `ref` names a task a config entry or a plugin defines. */
export function isKnownTask(
  ref: string,
  sources: { tasks: Readonly<Record<string, TaskSettings>>; plugins: readonly LoadedPlugin[] },
): boolean {
  try {
    resolveRoute(ref, sources);
    return true;
  } catch (error) {
    if (error instanceof UsageError) return false;
    throw error;
  }
}

/**
 * The task definition a worker runs for `ref`: config settings over the plugin's own over defaults.
 * @throws {UsageError} when no plugin implements the task
 */
export function resolveTask(
  ref: string,
  sources: {
    tasks: Readonly<Record<string, TaskSettings>>;
    plugins: readonly LoadedPlugin[];
    /** The time limit of a task that neither config nor plugin limits; 0 or absent: none. */
    defaultTimeoutMs?: number;
  },
): TaskDefinition {
  const route = resolveRoute(ref, sources);
  const loaded = findPlugin(route.name, sources.plugins);
  if (!loaded) {
    throw new UsageError(
      `Cannot find task "${ref}": config names "${route.name}" but no plugin defines it (known: ${
        knownNames(sources.plugins)
      })`,
    );
  }
  const configured = sources.tasks[route.key];
  const fallbackMs = sources.defaultTimeoutMs ? sources.defaultTimeoutMs : null;
  const timeoutMs = configured?.timeoutMs ?? loaded.plugin.timeoutMs ?? fallbackMs;
  const plugin = loaded.plugin;
  // Config over plugin; the plugin's was checked when it loaded.
  const rawRate = plugin.rateLimit;
  const rateLimit = configured?.rateLimit ??
    (rawRate === undefined ? undefined : parseRateLimit(rawRate));
  const maxConcurrency = configured?.maxConcurrency ?? plugin.maxConcurrency;
  return {
    name: plugin.name,
    queue: route.queue,
    retry: { ...DEFAULT_RETRY_SETTINGS, ...plugin.retry, ...configured?.retry },
    timeoutMs,
    ...(route.maxPriority === undefined ? {} : { maxPriority: route.maxPriority }),
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    run: (ctx) => plugin.run(ctx),
    module: loaded.url,
    permissions: plugin.permissions ?? {},
    source: loaded.source,
  };
}

function findPlugin(ref: string, plugins: readonly LoadedPlugin[]): LoadedPlugin | undefined {
  return plugins.find((p) => p.plugin.name === ref) ??
    plugins.find((p) => p.plugin.name === `task_${ref}`);
}

function knownNames(plugins: readonly LoadedPlugin[]): string {
  return listOrNone(plugins.map((p) => p.plugin.name));
}

function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? "none" : names.join(", ");
}
