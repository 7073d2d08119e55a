/**
 * The config sections other than `tasks`: broker, dispatch, results, scaling, load, worker, log.
 * Each reads snake_case YAML and outputs camelCase, with durations as `*Ms`.
 * @module
 */
import { z } from "zod";
import { autoscaleSchema } from "./autoscale_setting.ts";
import { brokerUrl, durationMs, port, section, taskKey, wholeNumber } from "./schema_fields.ts";

/** `broker`: where RabbitMQ is. `DTS_BROKER_URL` and `--broker` win over it. */
export const brokerSchema = section(
  z.strictObject({
    url: brokerUrl().optional().describe(
      "amqp://, amqps:// or memory://; a cluster's nodes as a list (or one string, separated by ; or ,), tried in turn. Default: none (null).",
    ),
    consumer_timeout: durationMs({ positive: true }).default(30 * 60_000).describe(
      "RabbitMQ's consumer_timeout: an unacknowledged message is taken back after it, so no task may run longer. Default: 30m (RabbitMQ's own).",
    ),
  }).transform((broker) => ({
    url: broker.url ?? null,
    consumerTimeoutMs: broker.consumer_timeout,
  })),
);

const jobSchema = z.strictObject({
  task: taskKey().describe("A key of `tasks`, or a plugin's name without or with task_."),
  args: z.array(z.unknown()).default([]).describe("Positional arguments. Default: []."),
  kwargs: z.record(z.string(), z.unknown()).default({}).describe("Keyword arguments. Default: {}."),
  count: wholeNumber(1).default(1).describe("How many times to send it. Default: 1."),
  priority: z.number().int().min(0).max(255).optional().describe(
    "AMQP priority of its messages; honoured when the task's queue has max_priority. Default: 0.",
  ),
});

/** `dispatch`: what `dts dispatch` sends and how long it waits. */
export const dispatchSchema = section(
  z.strictObject({
    expected_workers: wholeNumber(0).optional()
      .describe("Warn when fewer workers answer a ping. Default: no check (null)."),
    timeout: durationMs({ positive: true }).default(60_000)
      .describe("Per task; then status TIMEOUT. Default: 60s."),
    jobs: z.array(jobSchema).default([]).describe("Jobs to send concurrently. Default: []."),
    events: z.boolean().default(false).describe(
      "Send Celery's task-sent event on celeryev for each task (Celery's task_send_sent_event). Default: false.",
    ),
  }).transform((dispatch) => ({
    expectedWorkers: dispatch.expected_workers ?? null,
    timeoutMs: dispatch.timeout,
    jobs: dispatch.jobs,
    events: dispatch.events,
  })),
);

/** `results`: where `dts dispatch` saves its JSON. */
export const resultsSchema = section(z.strictObject({
  dir: z.string().min(1).default("results").describe("Results folder. Default: results."),
}));

const scalingEntrySchema = z.strictObject({
  min: wholeNumber(0).default(1).describe("Fewest worker processes. Default: 1."),
  max: wholeNumber(1).describe("Most worker processes; >= min. Required."),
  backlog_per_worker: wholeNumber(1).default(10)
    .describe("Queued messages one worker is expected to absorb. Default: 10."),
}).superRefine((entry, ctx) => {
  if (entry.min > entry.max) {
    ctx.addIssue({ code: "custom", path: ["max"], message: `must be >= min (${entry.min})` });
  }
}).transform((entry) => ({
  min: entry.min,
  max: entry.max,
  backlogPerWorker: entry.backlog_per_worker,
}));

/** `scaling`: task key → bounds for `dts scale`. */
export const scalingSchema = section(z.record(taskKey(), scalingEntrySchema));

/** `load`: defaults for `dts load`; its flags win. */
export const loadSchema = section(
  z.strictObject({
    task: taskKey().optional().describe("Task key to load. Default: none (null)."),
    rate: z.number().positive().optional()
      .describe("Sends per second. Default: as fast as possible (null)."),
    duration: durationMs({ positive: true }).optional()
      .describe("How long to send. Default: none (null)."),
    count: wholeNumber(1).optional().describe("How many to send. Default: none (null)."),
    concurrency: wholeNumber(1).default(100).describe("Most tasks in flight. Default: 100."),
  }).transform((load) => ({
    task: load.task ?? null,
    rate: load.rate ?? null,
    durationMs: load.duration ?? null,
    count: load.count ?? null,
    concurrency: load.concurrency,
  })),
);

/** The health port when nothing names one (SPEC). */
export const DEFAULT_HEALTH_PORT = 8080;

/** `worker`: how `dts worker` runs. */
export const workerSchema = section(
  z.strictObject({
    concurrency: wholeNumber(1).default(1).describe(
      "Attempts run at once; not with autoscale. Default: 1.",
    ),
    autoscale: autoscaleSchema().optional().describe(
      "Follow the backlog between min and max attempts at once: MAX,MIN (either order) or { min, max }; not with concurrency. Default: none (null), a fixed concurrency.",
    ),
    autoscale_cooldown: durationMs({ positive: true }).default(30_000).describe(
      "How long the demand must stay below an autoscaling pool before it shrinks, one slot a second. Default: 30s.",
    ),
    health_port: port().optional().describe(
      "Health/metrics HTTP port; 0 turns it off. Default: 8080, or the next free port when busy.",
    ),
    health_host: z.string().min(1).default("0.0.0.0").describe(
      "Health HTTP host. Default: 0.0.0.0.",
    ),
    metrics_host: z.string().min(1).optional().describe(
      "Host of /metrics. Default: the health host (null).",
    ),
    metrics_port: port().optional().describe(
      "Port of /metrics; 0 turns /metrics off. Default: the health port (null).",
    ),
    queue_type: z.enum(["classic", "quorum"]).default("classic")
      .describe("RabbitMQ queue type of task queues. Default: classic."),
    delivery_limit: wholeNumber(1).optional()
      .describe("Quorum queues: deliveries before dead-lettering. Default: none (null)."),
    max_message_bytes: wholeNumber(1).default(1_048_576)
      .describe("Larger messages are dead-lettered. Default: 1 MiB (1048576)."),
    drain_timeout: durationMs().default(30_000)
      .describe("On SIGTERM, wait this long for running attempts. Default: 30s."),
    prefetch: wholeNumber(1).optional()
      .describe(
        "Unacknowledged messages per consumer. Default: the pool size, following autoscale (null).",
      ),
    plugin_hosts: wholeNumber(1).optional().describe(
      "Isolated plugin hosts (Web Workers, a thread each) per plugin; attempts spread over them, then share them. Default: the CPU cores, at least 2, at most the concurrency (null).",
    ),
    kill_grace: durationMs().default(5000).describe(
      "After a time limit or a stop, how long a task may ignore its signal before its host is terminated. Default: 5s.",
    ),
    max_tasks_per_host: wholeNumber(0).default(0).describe(
      "Replace a plugin host after this many attempts (leaks stay bounded); 0 never. Default: 0.",
    ),
    task_timeout: durationMs().default(10 * 60_000).describe(
      "Time limit of a task that neither its plugin nor tasks.<key>.timeout limits; 0 none. Default: 10m.",
    ),
    max_redeliveries: wholeNumber(0).default(3).describe(
      "A message back this many times after workers died holding it is dead-lettered as poison; 0 never. Default: 3.",
    ),
    connect_timeout: durationMs().optional().describe(
      "At start, stop waiting for an unreachable broker after this long (exit 3). Default: keep waiting (null).",
    ),
    events: z.boolean().default(false).describe(
      "Send Celery's task and worker events on celeryev, for celery events and Flower (celery -E). Default: false.",
    ),
  }).transform((worker) => ({
    concurrency: worker.concurrency,
    autoscale: worker.autoscale ?? null,
    autoscaleCooldownMs: worker.autoscale_cooldown,
    healthPort: worker.health_port ?? DEFAULT_HEALTH_PORT,
    /** False when no flag, variable or file chose the port: a busy default may move. */
    healthPortGiven: worker.health_port !== undefined,
    healthHost: worker.health_host,
    metricsHost: worker.metrics_host ?? null,
    metricsPort: worker.metrics_port ?? null,
    queueType: worker.queue_type,
    deliveryLimit: worker.delivery_limit ?? null,
    maxMessageBytes: worker.max_message_bytes,
    drainTimeoutMs: worker.drain_timeout,
    prefetch: worker.prefetch ?? null,
    pluginHosts: worker.plugin_hosts ?? null,
    killGraceMs: worker.kill_grace,
    maxTasksPerHost: worker.max_tasks_per_host,
    taskTimeoutMs: worker.task_timeout,
    maxRedeliveries: worker.max_redeliveries,
    connectTimeoutMs: worker.connect_timeout ?? null,
    events: worker.events,
  })),
);

/** `log`: level and line format. */
export const logSchema = section(
  z.strictObject({
    level: z.enum(["debug", "info", "warn", "error"]).default("info")
      .describe("Lowest level written. Default: info."),
    format: z.enum(["json", "pretty"]).optional()
      .describe("json or pretty. Default: pretty on a terminal, else json (null)."),
  }).transform((log) => ({ level: log.level, format: log.format ?? null })),
);
