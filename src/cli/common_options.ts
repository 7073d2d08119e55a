/**
 * Options shared by several commands, and the steps they share: load
 * config, build the logger, open the broker.
 * @module
 */
import { type Command, Option } from "commander";
import { type ConfigDocument, type ConfigOverrides, loadConfigDocument } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { UsageError } from "../errors.ts";
import { createLogger, type Logger, type LogLevel } from "../log/logger.ts";
import { readManifests } from "../attempt/hosted/read_manifests.ts";
import { type LoadedPlugin, loadPlugins } from "../plugin/load_plugins.ts";
import { openTransport } from "../transport/open_transport.ts";
import type { MemoryBroker } from "../transport/memory/memory_broker.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { type CliContext, useColor } from "./cli_context.ts";
import { insecureTlsWarning } from "./insecure_tls.ts";

/** The default broker when neither flag, env nor config names one. */
export const DEFAULT_BROKER_URL = "amqp://guest:guest@localhost:5672/";

/** Options every broker-facing command takes. */
export interface CommonFlags {
  config?: string;
  broker?: string;
  logLevel?: LogLevel;
  logFormat?: "json" | "pretty";
  plugins?: string[];
}

/** Add `--config`, `--broker`, `--log-level`, `--log-format`. */
export function addCommonOptions(command: Command, options: { plugins?: boolean } = {}): Command {
  command
    .option("-c, --config <file>", "YAML config file (see `dts config check`)")
    .option("-b, --broker <url>", "broker URL: amqp://, amqps:// or memory:// (env DTS_BROKER_URL)")
    .addOption(
      new Option("--log-level <level>", "log level (env DTS_LOG_LEVEL)").choices([
        "debug",
        "info",
        "warn",
        "error",
      ]),
    )
    .addOption(
      new Option(
        "--log-format <format>",
        "log format; json is the default when stderr is not a terminal (env DTS_LOG_FORMAT)",
      ).choices(["json", "pretty"]),
    );
  if (options.plugins) {
    command.option(
      "-p, --plugins <dir>",
      "folder of plugin modules (*.ts, *.js); repeatable",
      (dir: string, dirs: string[] = []) => [...dirs, dir],
    );
  }
  return command;
}

/** Load config with flags > env > file > defaults. */
export async function loadCommandConfig(
  flags: CommonFlags,
  ctx: CliContext,
  overrides: ConfigOverrides = {},
): Promise<Config> {
  return (await loadCommandConfigDocument(flags, ctx, overrides)).config;
}

/**
 * The config of a command that needs a file with a non-empty `section`
 * (`dts scale`: scaling; `dts schedule`: schedules).
 * @throws {UsageError} without `--config`, or when the file has no such section
 */
export async function loadConfigWithSection(
  flags: CommonFlags,
  ctx: CliContext,
  need: {
    /** What cannot start, e.g. "scaler". */
    what: string;
    section: "scaling" | "schedules";
    /** What the section says, e.g. "sets each task's min and max". */
    says: string;
    example: string;
  },
): Promise<Config> {
  const { what, section, says, example } = need;
  if (flags.config === undefined) {
    throw new UsageError(
      `Cannot start ${what}: no config file; name one with --config (its ${section} section ${says})`,
    );
  }
  const config = await loadCommandConfig(flags, ctx);
  if (Object.keys(config[section]).length === 0) {
    throw new UsageError(
      `Cannot start ${what}: config "${flags.config}" has no ${section} section (e.g. ${section}: ${example})`,
    );
  }
  return config;
}

/** `loadCommandConfig`, keeping the lines of the file's values for later checks. */
export function loadCommandConfigDocument(
  flags: CommonFlags,
  ctx: CliContext,
  overrides: ConfigOverrides = {},
): Promise<ConfigDocument> {
  return loadConfigDocument({
    path: flags.config,
    env: ctx.env,
    flags: {
      brokerUrl: flags.broker,
      logLevel: flags.logLevel,
      logFormat: flags.logFormat,
      ...overrides,
    },
  });
}

/** The logger for a command, writing JSON lines or readable lines to stderr. */
export function commandLogger(config: Config, ctx: CliContext): Logger {
  const format = config.log.format ?? (ctx.stderrIsTerminal ? "pretty" : "json");
  return createLogger({
    format,
    level: config.log.level,
    write: (line) => ctx.stderr(`${line}\n`),
    color: format === "pretty" && useColor(ctx, ctx.stderrIsTerminal),
  });
}

/** The broker URL a command uses. */
export function brokerUrl(config: Config): string {
  return config.broker.url ?? DEFAULT_BROKER_URL;
}

/**
 * Open the configured broker; `BrokerUnreachableError` (exit 3) when it cannot be reached.
 * Warns first when the environment turned TLS verification off.
 */
export function openBroker(
  config: Config,
  logger: Logger,
  ctx: Pick<CliContext, "env">,
  options: { memoryBroker?: MemoryBroker; retryConnectMs?: number; signal?: AbortSignal } = {},
): Promise<Transport> {
  const insecure = insecureTlsWarning(ctx.env);
  if (insecure !== null) logger.warn(insecure);
  return openTransport(brokerUrl(config), {
    memoryBroker: options.memoryBroker,
    retryConnectMs: options.retryConnectMs,
    signal: options.signal,
    onLog: (level: LogLevel, msg: string, fields?: Record<string, unknown>) =>
      logger[level](msg, fields),
  });
}

/** How the config declares task queues (`worker.queue_type`, `worker.delivery_limit`), for senders too. */
export function taskQueueOptions(config: Config): TaskQueueOptions {
  return {
    type: config.worker.queueType,
    deliveryLimit: config.worker.deliveryLimit ?? undefined,
  };
}

/**
 * The plugins of a command: the built-in folder and `--plugins` folders, each
 * module read in a plugin host, so its top-level code runs with no permissions.
 */
export function loadCommandPlugins(dirs: readonly string[] = []): Promise<LoadedPlugin[]> {
  return loadPlugins({ dirs, readModules: readManifests });
}
