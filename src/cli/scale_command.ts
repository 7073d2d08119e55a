/**
 * `dts scale --config F`: keep between min and max local worker processes
 * per task (`scaling.<key>`), by the backlog of the task's queue.
 * @module
 */
import { type Command, Option } from "commander";
import { resolveRoute, resolveTask } from "../plugin/resolve_tasks.ts";
import { createDenoLauncher } from "../scale/deno_launcher.ts";
import { createDryRunLauncher } from "../scale/dry_run_launcher.ts";
import type { ProcessLauncher } from "../scale/process_launcher.ts";
import { type ScaledTask, Scaler } from "../scale/scaler.ts";
import type { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { type CliContext, waitForShutdown } from "./cli_context.ts";
import {
  addCommonOptions,
  brokerUrl,
  commandLogger,
  type CommonFlags,
  loadCommandPlugins,
  loadConfigWithSection,
  openBroker,
} from "./common_options.ts";
import { parseDurationArg, parsePort, parsePositiveDurationArg } from "./option_parsers.ts";

/** Time a stopped worker gets beyond its drain timeout (closing its connection) before SIGKILL. */
const STOP_GRACE_MS = 5_000;

interface ScaleFlags extends CommonFlags {
  interval: number;
  cooldown: number;
  healthPortBase: number;
  dryRun?: boolean;
}

/** Register `scale`; `run` records the exit code. */
export function registerScaleCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("scale")
    .description(
      "keep between min and max local worker processes per task, by backlog (config section scaling)",
    )
    .addOption(
      new Option("--interval <time>", "how often to look at the queues, e.g. 2s or 500ms")
        .argParser(parsePositiveDurationArg).default(2_000, "2s"),
    )
    .addOption(
      new Option(
        "--cooldown <time>",
        "how long the backlog must stay low before each step down by one worker",
      ).argParser(parseDurationArg).default(30_000, "30s"),
    )
    .addOption(
      new Option(
        "--health-port-base <port>",
        "give each worker the lowest free health port from here; 0: workers serve none",
      ).argParser(parsePort).default(0),
    )
    .option("--dry-run", "print the decisions without starting any process");
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
The config's scaling section names the tasks and their bounds:
  scaling:
    a: { min: 1, max: 8, backlog_per_worker: 20 }

Every interval, each task gets ceil(ready messages / backlog_per_worker) workers,
within [min, max]: more at once, one fewer per cool-down of low backlog. Workers
are \`dts worker --task <key>\` processes named worker-<key>-<n>@<host>; a stopped
one drains (SIGTERM), a crashed one is replaced (after 1 s, doubling to 30 s).
--config, --plugins and the broker and log settings are passed on to them.

Examples:
  dts scale --config config/test-config.yml
  dts scale --config config/test-config.yml --dry-run --log-level warn
  dts scale --config prod.yml --plugins ./my-plugins --interval 5s --cooldown 2m
  dts scale --config prod.yml --health-port-base 9100      # workers on 9100, 9101, ...

Stops every worker gracefully on SIGINT (exit 130) or SIGTERM (exit 0).`,
  );
  command.action((flags: ScaleFlags) => run(() => scaleCommand(flags, ctx)));
}

/** Scale workers until SIGINT/SIGTERM; then stop them all and exit 0 (130 after SIGINT). */
export async function scaleCommand(
  flags: ScaleFlags,
  ctx: CliContext,
  options: { memoryBroker?: MemoryBroker; launcher?: ProcessLauncher } = {},
): Promise<number> {
  const config = await loadConfigWithSection(flags, ctx, {
    what: "scaler",
    section: "scaling",
    says: "sets each task's min and max",
    example: "{ a: { min: 1, max: 8 } }",
  });
  const keys = Object.keys(config.scaling);
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  const tasks: ScaledTask[] = keys.map((key) => {
    const sources = { tasks: config.tasks, plugins };
    const route = resolveRoute(key, sources);
    // Fail now, not in every child: a worker must find the task's plugin.
    resolveTask(key, sources);
    return { key, name: route.name, queue: route.queue, ...config.scaling[key] };
  });

  const transport = await openBroker(config, logger, ctx, options);
  const launcher = options.launcher ??
    (flags.dryRun ? createDryRunLauncher((line) => ctx.stdout(`${line}\n`)) : createDenoLauncher({
      settings: {
        configPath: flags.config,
        pluginDirs: flags.plugins ?? [],
        // Through the environment, so the broker password never shows in `ps`.
        env: {
          DTS_BROKER_URL: brokerUrl(config),
          DTS_LOG_LEVEL: config.log.level,
          DTS_LOG_FORMAT: config.log.format ?? (ctx.stderrIsTerminal ? "pretty" : "json"),
        },
      },
    }));
  const scaler = new Scaler({
    tasks,
    transport,
    launcher,
    logger,
    hostname: ctx.hostname,
    intervalMs: flags.interval,
    cooldownMs: flags.cooldown,
    healthPortBase: flags.healthPortBase,
    stopTimeoutMs: config.worker.drainTimeoutMs + STOP_GRACE_MS,
    onDecision: flags.dryRun
      ? (d) =>
        ctx.stdout(
          `would scale ${d.task} from ${d.from} to ${d.to} workers: backlog ${d.backlog}\n`,
        )
      : undefined,
  });
  try {
    scaler.start();
    await waitForShutdown(ctx);
    logger.info("Shutting down; stopping every worker", { signal: String(ctx.shutdown.reason) });
  } finally {
    await scaler.stop();
    await transport.close();
  }
  logger.info("Scaler stopped");
  return ctx.shutdown.reason === "SIGINT" ? 130 : 0;
}
