/**
 * `dts ui`: the web dashboard. One process holds the one event subscription
 * and the one broker poll, keeps the history in SQLite, and serves every
 * page over server-sent events.
 * @module
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { dirname } from "node:path";
import { UsageError } from "../errors.ts";
import { redactUrl } from "../log/redact.ts";
import { resolveRoute, type TaskRoute } from "../plugin/resolve_tasks.ts";
import { subscribeEvents } from "../events/event_stream.ts";
import { fromFleetEvent } from "../ui/celery_event.ts";
import { EventStore } from "../ui/event_store.ts";
import { FleetMonitor } from "../ui/fleet_monitor.ts";
import { DEFAULT_RETENTION_MS, parseRetention } from "../ui/retention.ts";
import { SseHub } from "../ui/sse_hub.ts";
import { isLoopbackHost } from "../ui/ui_auth.ts";
import { createUiHandler } from "../ui/ui_handler.ts";
import { type CliContext, waitForShutdown } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  loadCommandPlugins,
  openBroker,
} from "./common_options.ts";
import { listenHttp } from "./http_listen.ts";
import { parsePort } from "./option_parsers.ts";

interface UiFlags extends CommonFlags {
  port?: number;
  host: string;
  db: string;
  retention: number;
  authToken?: string;
}

/** Where the history is kept unless `--db` says. */
export const DEFAULT_DB_PATH = ".dts/ui.sqlite";

/** Register `ui`. */
export function registerUiCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("ui")
    .description(
      "the web dashboard: workers, queues, tasks live, charts, history, dead letters (replay, purge), revoke",
    )
    .option("--port <port>", "port to serve on (default 8090; busy: the next free one)", parsePort)
    .option(
      "--host <address>",
      "address to bind; another than loopback needs --auth-token",
      "127.0.0.1",
    )
    .option("--db <file>", "SQLite file that keeps the history across restarts", DEFAULT_DB_PATH)
    .addOption(
      new Option("--retention <time>", "how long history is kept, e.g. 7d, 12h")
        .argParser(parseRetentionArg).default(DEFAULT_RETENTION_MS, "7d"),
    )
    .option(
      "--auth-token <token>",
      "require this token: a Bearer header, or open the page once as /?token=… (sets a cookie); env DTS_UI_AUTH_TOKEN keeps it out of ps",
    );
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
Examples:
  dts ui                                   http://127.0.0.1:8090/
  dts ui --config config/test-config.yml --retention 2d
  dts ui --host 0.0.0.0 --auth-token "$(openssl rand -hex 16)"
  DTS_UI_AUTH_TOKEN=… dts ui --host 0.0.0.0    the token out of ps

Tasks show when workers send Celery events (dts worker -E, worker.events: true, celery -E);
workers and queues show either way. Dead letters have Replay and Purge buttons
(as dts dlq replay|purge), queued and running tasks a Revoke button (as dts revoke
--terminate). Ctrl-C stops it; the history stays in --db.`,
  );
  command.action((flags: UiFlags) => run(() => uiCommand(flags, ctx)));
}

/** Serve the dashboard until SIGINT/SIGTERM; resolves to the exit code. */
export async function uiCommand(flags: UiFlags, ctx: CliContext): Promise<number> {
  const loopback = isLoopbackHost(flags.host);
  // From the environment, the token stays out of the process list (`ps`).
  const fromEnv = ctx.env.DTS_UI_AUTH_TOKEN;
  const token = flags.authToken ?? (fromEnv === undefined || fromEnv === "" ? null : fromEnv);
  if (!loopback && token === null) {
    throw new UsageError(
      `Cannot serve the dashboard on "${flags.host}" without --auth-token: anyone who reaches it could replay, purge and revoke`,
    );
  }
  if (token !== null && token.length < 8) {
    throw new UsageError("Cannot serve the dashboard: --auth-token must be 8 characters or more");
  }
  const config = await loadCommandConfig(flags, ctx);
  const logger = commandLogger(config, ctx);
  const routes = await taskRoutes(config, flags);
  await Deno.mkdir(dirname(flags.db), { recursive: true });
  const store = new EventStore(flags.db);
  const hub = new SseHub();
  const transport = await openBroker(config, logger, ctx);
  const monitor = new FleetMonitor({
    transport,
    store,
    hub,
    routes,
    retentionMs: flags.retention,
    resultsDir: config.results.dir,
    onError: (what, error) =>
      logger.warn(`Cannot ${what}`, {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  // The one subscription every page shares.
  const subscription = await subscribeEvents(
    transport,
    (event) => monitor.push(fromFleetEvent(event)),
    {
      onSkip: (reason) => logger.debug("Skipped an event", { reason }),
    },
  );
  monitor.start();
  const handler = createUiHandler({
    monitor,
    store,
    hub,
    routes,
    auth: { token, loopback },
    resultsDir: config.results.dir,
    onAction: (what, fields) => logger.info(`dts ui ${what}`, fields),
  });
  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  try {
    server = listenHttp(
      {
        hostname: flags.host,
        port: flags.port ?? 8090,
        given: flags.port !== undefined,
        what: "the dashboard",
        portOption: "--port",
        hostOption: "--host",
      },
      (port) => Deno.serve({ hostname: flags.host, port, onListen: () => {} }, handler),
      (from, to) => logger.info(`Dashboard: port ${from} is busy; using ${to}`),
    );
    const { hostname, port } = server.addr;
    const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
    logger.info("Dashboard serving", {
      url: `http://${shown}:${port}/`,
      broker: redactUrl(transport.url),
      db: flags.db,
    });
    ctx.stdout(`dts ui: http://${shown}:${port}/${token === null ? "" : "?token=…"}\n`);
    await waitForShutdown(ctx);
    return ctx.shutdown.reason === "SIGINT" ? 130 : 0;
  } finally {
    hub.close();
    await server?.shutdown();
    await monitor.stop();
    await subscription.close();
    await transport.close();
    store.close();
  }
}

/** Every task the config or a plugin knows, as `dts status` lists them. */
async function taskRoutes(
  config: Awaited<ReturnType<typeof loadCommandConfig>>,
  flags: UiFlags,
): Promise<TaskRoute[]> {
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  const refs = new Set([...Object.keys(config.tasks), ...plugins.map((p) => p.plugin.name)]);
  const routes = new Map<string, TaskRoute>();
  for (const ref of refs) {
    const route = resolveRoute(ref, { tasks: config.tasks, plugins, allowUnknown: true });
    routes.set(route.name, route);
  }
  return [...routes.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function parseRetentionArg(value: string): number {
  try {
    return parseRetention(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
