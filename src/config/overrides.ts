/**
 * Config from flags and `DTS_*` environment variables, each turned into a
 * partial raw (snake_case) document that is merged over the file's.
 * Each set path remembers its source, so an issue names `--concurrency` or
 * `DTS_CONCURRENCY` instead of a line.
 * @module
 */
import type { ConfigIssue } from "../errors.ts";
import { formatPath } from "./issue_messages.ts";

/** Settings a command's flags may override; undefined means "not given". */
export interface ConfigOverrides {
  /** `--broker` → `broker.url` */
  brokerUrl?: string;
  /** `--results-dir` → `results.dir` */
  resultsDir?: string;
  /** `--log-level` → `log.level` */
  logLevel?: string;
  /** `--log-format` → `log.format` */
  logFormat?: string;
  /** `dts worker --concurrency` → `worker.concurrency` */
  concurrency?: number;
  /** `dts worker --autoscale` (`MAX,MIN`) → `worker.autoscale` */
  autoscale?: string;
  /** `--health-port` → `worker.health_port` */
  healthPort?: number;
  /** `--health-host` → `worker.health_host` */
  healthHost?: string;
  /** `--metrics-host` → `worker.metrics_host` */
  metricsHost?: string;
  /** `--metrics-port` → `worker.metrics_port` */
  metricsPort?: number;
  /** `--queue-type` → `worker.queue_type` */
  queueType?: string;
  /** `dts worker --connect-timeout` → `worker.connect_timeout` */
  connectTimeoutMs?: number;
  /** `dts worker --events` → `worker.events` */
  workerEvents?: boolean;
  /** `dts dispatch --events` → `dispatch.events` */
  dispatchEvents?: boolean;
  /** `--timeout` → `dispatch.timeout` */
  dispatchTimeoutMs?: number;
  /** `dts load --task` → `load.task` */
  loadTask?: string;
  /** `dts load --count` → `load.count` */
  loadCount?: number;
  /** `dts load --duration` → `load.duration` */
  loadDurationMs?: number;
  /** `dts load --rate` → `load.rate` */
  loadRate?: number;
  /** `dts load --concurrency` → `load.concurrency` */
  loadConcurrency?: number;
}

/** Where a flag goes; `ms` marks a duration the flag parser already turned into milliseconds. */
interface FlagTarget {
  path: readonly string[];
  flag: string;
  ms?: true;
}

const FLAGS: Readonly<Record<keyof ConfigOverrides, FlagTarget>> = {
  brokerUrl: { path: ["broker", "url"], flag: "--broker" },
  resultsDir: { path: ["results", "dir"], flag: "--results-dir" },
  logLevel: { path: ["log", "level"], flag: "--log-level" },
  logFormat: { path: ["log", "format"], flag: "--log-format" },
  concurrency: { path: ["worker", "concurrency"], flag: "--concurrency" },
  autoscale: { path: ["worker", "autoscale"], flag: "--autoscale" },
  healthPort: { path: ["worker", "health_port"], flag: "--health-port" },
  healthHost: { path: ["worker", "health_host"], flag: "--health-host" },
  metricsHost: { path: ["worker", "metrics_host"], flag: "--metrics-host" },
  metricsPort: { path: ["worker", "metrics_port"], flag: "--metrics-port" },
  queueType: { path: ["worker", "queue_type"], flag: "--queue-type" },
  connectTimeoutMs: { path: ["worker", "connect_timeout"], flag: "--connect-timeout", ms: true },
  workerEvents: { path: ["worker", "events"], flag: "--events" },
  dispatchEvents: { path: ["dispatch", "events"], flag: "--events" },
  dispatchTimeoutMs: { path: ["dispatch", "timeout"], flag: "--timeout", ms: true },
  loadTask: { path: ["load", "task"], flag: "--task" },
  loadCount: { path: ["load", "count"], flag: "--count" },
  loadDurationMs: { path: ["load", "duration"], flag: "--duration", ms: true },
  loadRate: { path: ["load", "rate"], flag: "--rate" },
  loadConcurrency: { path: ["load", "concurrency"], flag: "--concurrency" },
};

/** One `DTS_*` variable that sets a config value. */
export interface EnvVar {
  name: string;
  /** For `--help`. */
  description: string;
  /** Raw config path it sets, e.g. `["worker", "concurrency"]`. */
  path: readonly string[];
  /** Whole numbers are checked here, with this range; strings go to the schema as they are. */
  whole?: { min: number; max?: number };
}

/** Every `DTS_*` variable read as config, in the order `--help` lists them. An empty value counts as unset. */
export const ENV_VARS: readonly EnvVar[] = [
  {
    name: "DTS_BROKER_URL",
    description: "broker URL: amqp://, amqps:// or memory:// (as --broker)",
    path: ["broker", "url"],
  },
  {
    name: "DTS_RESULTS_DIR",
    description: "folder for dispatch results (as --results-dir)",
    path: ["results", "dir"],
  },
  {
    name: "DTS_LOG_LEVEL",
    description: "debug, info, warn or error (as --log-level)",
    path: ["log", "level"],
  },
  {
    name: "DTS_LOG_FORMAT",
    description: "json or pretty (as --log-format)",
    path: ["log", "format"],
  },
  {
    name: "DTS_CONCURRENCY",
    description: "attempts a worker runs at once (as dts worker --concurrency)",
    path: ["worker", "concurrency"],
    whole: { min: 1 },
  },
  {
    name: "DTS_AUTOSCALE",
    description: "worker pool bounds MAX,MIN that follow the backlog (as dts worker --autoscale)",
    path: ["worker", "autoscale"],
  },
  {
    name: "DTS_HEALTH_PORT",
    description: "worker health/metrics port, 0 turns it off (as --health-port)",
    path: ["worker", "health_port"],
    whole: { min: 0, max: 65_535 },
  },
  {
    name: "DTS_HEALTH_HOST",
    description: "worker health/metrics host (as --health-host)",
    path: ["worker", "health_host"],
  },
  {
    name: "DTS_METRICS_HOST",
    description: "worker /metrics host; default the health host (as --metrics-host)",
    path: ["worker", "metrics_host"],
  },
  {
    name: "DTS_METRICS_PORT",
    description:
      "worker /metrics port, 0 turns it off; default the health port (as --metrics-port)",
    path: ["worker", "metrics_port"],
    whole: { min: 0, max: 65_535 },
  },
  {
    name: "DTS_QUEUE_TYPE",
    description: "classic or quorum task queues (as --queue-type)",
    path: ["worker", "queue_type"],
  },
  {
    name: "DTS_CONNECT_TIMEOUT",
    description:
      "worker: stop waiting for the broker at start after this long (as --connect-timeout)",
    path: ["worker", "connect_timeout"],
  },
];

/** A partial raw document from one source, with the label of each path it sets. */
export interface OverrideLayer {
  raw: Record<string, unknown>;
  /** Formatted path (`worker.concurrency`) → `--concurrency` or `DTS_CONCURRENCY`. */
  labels: Map<string, string>;
  /** Formatted path → the value as given, for messages. */
  values: Map<string, string>;
  issues: ConfigIssue[];
}

/** The raw layer of the flags that were given. */
export function flagLayer(flags: ConfigOverrides): OverrideLayer {
  const layer: OverrideLayer = { raw: {}, labels: new Map(), values: new Map(), issues: [] };
  for (const [key, { path, flag, ms }] of Object.entries(FLAGS)) {
    const value = flags[key as keyof ConfigOverrides];
    if (value === undefined) continue;
    // The schema wants a unit on every duration; these arrive as milliseconds.
    const raw = ms ? `${value}ms` : value;
    setPath(layer.raw, path, raw);
    layer.labels.set(formatPath(path), flag);
    layer.values.set(formatPath(path), String(raw));
  }
  return layer;
}

/** The raw layer of the `DTS_*` variables that are set, skipping paths in `skip` (set by a flag). */
export function envLayer(
  env: Readonly<Record<string, string | undefined>>,
  skip: ReadonlySet<string> = new Set(),
): OverrideLayer {
  const layer: OverrideLayer = { raw: {}, labels: new Map(), values: new Map(), issues: [] };
  for (const variable of ENV_VARS) {
    const text = env[variable.name];
    const where = formatPath(variable.path);
    if (text === undefined || text === "" || skip.has(where)) continue;
    const value = variable.whole ? parseWhole(text, variable.whole) : text;
    if (value === null) {
      layer.issues.push({
        path: variable.name,
        message: wholeMessage(variable.whole!),
        source: "env",
        value: text,
      });
      continue;
    }
    setPath(layer.raw, variable.path, value);
    layer.labels.set(where, variable.name);
    layer.values.set(where, text);
  }
  return layer;
}

function parseWhole(text: string, range: { min: number; max?: number }): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const value = Number(text);
  if (value < range.min || (range.max !== undefined && value > range.max)) return null;
  return value;
}

function wholeMessage(range: { min: number; max?: number }): string {
  return range.max === undefined
    ? `must be a whole number >= ${range.min}`
    : `must be a whole number from ${range.min} to ${range.max}`;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === "object" && next !== null ? next : (node[key] = {})) as Record<
      string,
      unknown
    >;
  }
  node[path[path.length - 1]] = value;
}
