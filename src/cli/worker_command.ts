/**
 * `dts worker --task a [--task b]`: consume the named tasks' queues and run their plugins.
 * @module
 */
import { type Command, Option } from "commander";
import { HostedRunner } from "../attempt/hosted/hosted_runner.ts";
import { checkTimeLimits } from "../worker/time_limits_check.ts";
import { UsageError } from "../errors.ts";
import { resolveTask } from "../plugin/resolve_tasks.ts";
import type { MemoryBroker } from "../transport/memory/memory_broker.ts";
import type { Transport } from "../transport/transport.ts";
import { WorkerMetrics } from "../worker/metrics.ts";
import { pluginHostsForPool } from "../worker/pool_size.ts";
import { Worker } from "../worker/worker.ts";
import { type CliContext, waitForShutdown } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  loadCommandPlugins,
  openBroker,
} from "./common_options.ts";
import { startHealthServers } from "./health_endpoints.ts";
import {
  parseAutoscaleArg,
  parsePort,
  parsePositiveDurationArg,
  parsePositiveInt,
} from "./option_parsers.ts";
import { VERSION } from "./version_command.ts";
import { defaultWorkerName } from "./worker_name.ts";

interface WorkerFlags extends CommonFlags {
  connectTimeout?: number;
  task: string[];
  concurrency?: number;
  autoscale?: string;
  name?: string;
  healthPort?: number;
  healthHost?: string;
  metricsHost?: string;
  metricsPort?: number;
  queueType?: string;
  /** `-E`/`--events`: send Celery events. */
  events?: boolean;
}

/** Register `worker` on the program; `run` records the exit code. */
export function registerWorkerCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("worker")
    .description("consume the queues of the named tasks only, and run their handlers")
    .requiredOption(
      "-t, --task <task>",
      "task to run: a config key (a), a plugin name (task_a); repeatable",
      (task: string, tasks: string[] = []) => [...tasks, task],
    )
    .option(
      "-n, --concurrency <n>",
      "tasks in flight at once (env DTS_CONCURRENCY)",
      parsePositiveInt,
    )
    .option(
      "--autoscale <max,min>",
      "follow the backlog between min and max tasks in flight, e.g. 4,1; either order (env DTS_AUTOSCALE)",
      parseAutoscaleArg,
    )
    .option(
      "--name <name>",
      "worker name (default worker-<tasks>.<pid>@<hostname>, unique per process)",
    )
    .addOption(
      new Option(
        "--health-port <port>",
        "HTTP port for /healthz, /readyz, /metrics; 0 turns it off (env DTS_HEALTH_PORT)",
      )
        .argParser(parsePort),
    )
    .option("--health-host <host>", "address the health server listens on (env DTS_HEALTH_HOST)")
    .option(
      "--metrics-host <host>",
      "serve /metrics on this address instead of the health one (env DTS_METRICS_HOST)",
    )
    .addOption(
      new Option(
        "--metrics-port <port>",
        "serve /metrics on this port instead of the health one; 0 turns it off (env DTS_METRICS_PORT)",
      ).argParser(parsePort),
    )
    .addOption(
      new Option(
        "--queue-type <type>",
        "task queue type; quorum dead-letters after worker.delivery_limit deliveries (env DTS_QUEUE_TYPE)",
      ).choices(["classic", "quorum"]),
    )
    .option(
      "-E, --events",
      "send Celery's task and worker events on celeryev, for celery events and Flower (worker.events)",
    )
    .option(
      "--connect-timeout <time>",
      "at start, stop waiting for an unreachable broker after this long, e.g. 30s (default: keep waiting; env DTS_CONNECT_TIMEOUT)",
      parsePositiveDurationArg,
    );
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
Examples:
  dts worker --task a
  dts worker --task a --task b --concurrency 8
  dts worker --task a --autoscale 8,1          # 1 to 8 tasks at once, by the backlog (Celery's order)
  dts worker --task a --queue-type quorum
  dts worker --task a -E                       # Celery events, for celery events --dump and Flower
  dts worker --task b --plugins ./my-plugins --broker amqp://user:pass@rabbit:5672/
  DTS_HEALTH_PORT=0 dts worker --task a --log-format pretty
  dts worker --task a --metrics-host 127.0.0.1 --metrics-port 9464   # /metrics only on this host

Health: /healthz and /readyz on --health-host:--health-port (default 0.0.0.0:8080), and /metrics
there too unless --metrics-host/--metrics-port move it. A busy default port moves to the next free
one (the log says which); a port you chose that is busy stops the start (exit 2).

Start-up: a broker that is not reachable yet (not started, restarting) is tried again with backoff,
/readyz answering 503 meanwhile, until --connect-timeout (exit 3); a refused login or a missing
vhost stops the start at once (exit 3).

Autoscale: --autoscale MAX,MIN (or MIN,MAX: the smaller number is min; MAX alone means MAX,0)
starts with min slots, grows to the backlog (running + waiting + queued, at most max) within a
second, and shrinks one slot a second once the demand stayed lower for worker.autoscale_cooldown
(default 30s); running tasks are never cut. Each queue's prefetch follows the pool. It replaces
--concurrency (both in one place is an error; a flag's choice wins over the env's or the file's).
dts scale starts and stops worker processes instead; the two can be combined.

Fleet-wide limits: tasks.<key>.rate_limit (20/s, 100/m, 500/h) and tasks.<key>.max_concurrency
(or the plugin's rateLimit/maxConcurrency) hold across every worker of the task, on RabbitMQ alone
(queues dts.limit.<task>.*). A task waiting for them is listed by dts inspect reserved.

Time limits: a task runs at most its plugin's timeoutMs, tasks.<key>.timeout, or worker.task_timeout
(default 10m); it must end before RabbitMQ's consumer_timeout (broker.consumer_timeout, default 30m),
or the broker would hand it to another worker while it still runs: the start refuses such a task.

Events: -E (worker.events: true) sends Celery 5.2's events on the topic exchange celeryev:
task-received, -started, -succeeded, -failed, -retried, -revoked, and worker-online, a
worker-heartbeat every 2 s, worker-offline. celery events, Flower and dts's own readers show them.
Off by default; when on they never hold up a task: a slow or absent broker drops them (counted).`,
  );
  command.action((flags: WorkerFlags) => run(() => workerCommand(flags, ctx)));
}

/** Run a worker until SIGINT/SIGTERM; drain, then exit 0 (130 after SIGINT). */
export async function workerCommand(
  flags: WorkerFlags,
  ctx: CliContext,
  options: { memoryBroker?: MemoryBroker } = {},
): Promise<number> {
  const config = await loadCommandConfig(flags, ctx, {
    concurrency: flags.concurrency,
    autoscale: flags.autoscale,
    healthPort: flags.healthPort,
    healthHost: flags.healthHost,
    metricsHost: flags.metricsHost,
    metricsPort: flags.metricsPort,
    queueType: flags.queueType,
    connectTimeoutMs: flags.connectTimeout,
    workerEvents: flags.events,
  });
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  const keys = [...new Set(flags.task)];
  if (keys.length === 0) throw new UsageError("Cannot start worker: name at least one --task");
  const tasks = keys.map((ref) =>
    resolveTask(ref, {
      tasks: config.tasks,
      plugins,
      defaultTimeoutMs: config.worker.taskTimeoutMs,
    })
  );
  checkTimeLimits(tasks, {
    consumerTimeoutMs: config.broker.consumerTimeoutMs,
    killGraceMs: config.worker.killGraceMs,
    warn: (msg, fields) => logger.warn(msg, fields),
  });
  // A worker runs no program and writes no file itself: it keeps these only
  // when a plugin declares them (a plugin host gets at most what the worker has).
  const declared = (kind: "run" | "write") =>
    tasks.some((task) => {
      const grant = task.permissions?.[kind];
      return grant === true || (Array.isArray(grant) && grant.length > 0);
    });
  await ctx.dropPermissions?.([
    "ffi",
    ...(declared("run") ? [] : ["run" as const]),
    ...(declared("write") ? [] : ["write" as const]),
  ]);
  const name = flags.name ?? defaultWorkerName(keys, ctx);

  // Listen before connecting: a port that cannot be had stops the start before any message is taken.
  const metrics = new WorkerMetrics();
  let worker: Worker | null = null;
  const servers = await startHealthServers(config.worker, {
    ready: () => worker?.ready() ?? false,
    reason: () => worker?.notReadyReason() ?? "starting",
    metrics: () => metrics.render(),
  }, logger);
  let transport: Transport;
  try {
    // Workers often start before their broker (compose, systemd, Kubernetes): wait for it.
    transport = await openBroker(config, logger, ctx, {
      ...options,
      retryConnectMs: config.worker.connectTimeoutMs ?? Number.POSITIVE_INFINITY,
      signal: ctx.shutdown,
    });
  } catch (error) {
    await Promise.all(servers.map((server) => server.shutdown()));
    throw error;
  }
  const { autoscale } = config.worker;
  // Hosts are sized for the largest pool; they start on demand and retire after a minute idle,
  // so an autoscaling pool that shrinks lets its extra hosts go too. Attempts spread over them
  // and share them once every host is busy.
  const poolMax = autoscale?.max ?? config.worker.concurrency;
  const runner = new HostedRunner({
    hostsPerPlugin: pluginHostsForPool(poolMax, config.worker.pluginHosts),
    killGraceMs: config.worker.killGraceMs,
    maxAttemptsPerHost: config.worker.maxTasksPerHost,
    logger,
  });
  worker = new Worker({
    transport,
    tasks,
    name,
    ...(autoscale === null
      ? { concurrency: config.worker.concurrency }
      : { autoscale: { ...autoscale, cooldownMs: config.worker.autoscaleCooldownMs } }),
    prefetch: config.worker.prefetch,
    logger,
    maxMessageBytes: config.worker.maxMessageBytes,
    queueType: config.worker.queueType,
    deliveryLimit: config.worker.deliveryLimit,
    maxRedeliveries: config.worker.maxRedeliveries,
    version: VERSION,
    events: config.worker.events,
    metrics,
    runner,
  });
  try {
    await worker.start();
    await waitForShutdown(ctx);
    logger.info("Shutting down", { signal: String(ctx.shutdown.reason) });
    await worker.stop({ drainTimeoutMs: config.worker.drainTimeoutMs });
  } finally {
    await worker.stop({ drainTimeoutMs: 0 });
    await Promise.all(servers.map((server) => server.shutdown()));
    await transport.close();
  }
  return ctx.shutdown.reason === "SIGINT" ? 130 : 0;
}
