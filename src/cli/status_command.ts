/**
 * `dts status`: is the broker reachable, how deep is each task queue, who is
 * consuming, and where the fleet-wide limits stand.
 * @module
 */
import { type Command, Option } from "commander";
import { fleetLimitsStatus, type FleetLimitStatus } from "../client/fleet_limits_status.ts";
import { inspectWorkers } from "../client/inspect_workers.ts";
import { redactUrl } from "../log/redact.ts";
import { resolveRoute, type TaskRoute } from "../plugin/resolve_tasks.ts";
import { type QueueStatus, taskQueueStatus } from "../client/task_queue_status.ts";
import type { CliContext } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  loadCommandPlugins,
  openBroker,
} from "./common_options.ts";
import { parsePositiveDurationArg } from "./option_parsers.ts";

interface StatusFlags extends CommonFlags {
  json?: boolean;
  timeout: number;
}

/** One worker that answered. */
export interface WorkerStatus {
  name: string;
  pid: number | null;
  uptime_s: number | null;
  tasks: string[];
  /** What a dts worker honours and did: null from a worker that does not say (Celery). */
  revoked: { known: number; refused: number; terminated: number } | null;
}

/** Register `status`. */
export function registerStatusCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("status")
    .description(
      "broker reachable?, each task queue's depth, consumers and dead letters, live workers, fleet-wide limits",
    )
    .option("--json", "print one JSON document")
    .addOption(
      new Option("--timeout <time>", "how long to wait for workers to answer, e.g. 2s")
        .argParser(parsePositiveDurationArg).default(1_000, "1s"),
    );
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    "\nExamples:\n  dts status\n  dts status --json --config config/test-config.yml\n\nExit code 3 when the broker cannot be reached.",
  );
  command.action((flags: StatusFlags) => run(() => statusCommand(flags, ctx)));
}

/** Print the status; resolves to the exit code. */
export async function statusCommand(flags: StatusFlags, ctx: CliContext): Promise<number> {
  const config = await loadCommandConfig(flags, ctx);
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  const refs = new Set([...Object.keys(config.tasks), ...plugins.map((p) => p.plugin.name)]);
  const routes = new Map<string, TaskRoute>();
  for (const ref of refs) {
    const route = resolveRoute(ref, { tasks: config.tasks, plugins, allowUnknown: true });
    routes.set(route.name, route);
  }
  const transport = await openBroker(config, logger, ctx);
  try {
    const queues = await Promise.all(
      [...routes.values()].map((route) => taskQueueStatus(transport, route)),
    );
    const stats = await inspectWorkers(transport, {
      method: "stats",
      timeoutMs: flags.timeout,
    });
    const workers = [...stats.entries()].map(([name, value]) => workerStatus(name, value))
      .sort((a, b) => a.name.localeCompare(b.name));
    const limits = await fleetLimitsStatus(transport, stats);
    const report = {
      broker: { url: redactUrl(transport.url), reachable: true },
      queues,
      workers,
      limits,
    };
    ctx.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
    return 0;
  } finally {
    await transport.close();
  }
}

function workerStatus(name: string, value: unknown): WorkerStatus {
  const stats = (value ?? {}) as Record<string, unknown>;
  const dts = (stats.dts ?? {}) as Record<string, unknown>;
  return {
    name,
    pid: typeof stats.pid === "number" ? stats.pid : null,
    uptime_s: typeof stats.uptime === "number" ? stats.uptime : null,
    tasks: Array.isArray(dts.tasks) ? dts.tasks.map(String) : [],
    revoked: revokedCounts(stats.revoked),
  };
}

function revokedCounts(value: unknown): WorkerStatus["revoked"] {
  const counts = value as Record<string, unknown> | null;
  const count = (key: string) => typeof counts?.[key] === "number" ? counts[key] as number : null;
  const [known, refused, terminated] = [count("known"), count("refused"), count("terminated")];
  if (known === null || refused === null || terminated === null) return null;
  return { known, refused, terminated };
}

function formatStatus(report: {
  broker: { url: string };
  queues: QueueStatus[];
  workers: WorkerStatus[];
  limits: FleetLimitStatus[];
}): string {
  const show = (n: number | null) => (n === null ? "-" : String(n));
  const lines = [`Broker   ${report.broker.url}  reachable`, "", "Queues"];
  lines.push(
    `  ${"task".padEnd(16)} ${"queue".padEnd(16)} ${"ready".padStart(7)} ${
      "consumers".padStart(9)
    } ${"dead".padStart(6)}`,
  );
  for (const q of report.queues) {
    lines.push(
      `  ${q.task.padEnd(16)} ${q.queue.padEnd(16)} ${show(q.messages).padStart(7)} ${
        show(q.consumers).padStart(9)
      } ${show(q.dead).padStart(6)}`,
    );
  }
  lines.push("", `Workers (${report.workers.length} answered)`);
  for (const w of report.workers) {
    const host = w.name.includes("@") ? w.name.split("@")[1] : "";
    lines.push(
      `  ${w.name.padEnd(28)} host ${host || "-"}  pid ${w.pid ?? "-"}  up ${
        w.uptime_s ?? "-"
      } s  tasks ${w.tasks.join(", ") || "-"}${
        w.revoked === null
          ? ""
          : `  revoked ${w.revoked.known} (refused ${w.revoked.refused}, terminated ${w.revoked.terminated})`
      }`,
    );
  }
  if (report.limits.length > 0) lines.push("", "Fleet-wide limits", ...formatLimits(report.limits));
  return `${lines.join("\n")}\n`;
}

function formatLimits(limits: FleetLimitStatus[]): string[] {
  return limits.map((limit) => {
    const parts = [`  ${limit.task.padEnd(16)}`];
    if (limit.rate_limit !== null) {
      parts.push(
        `rate ${limit.rate_limit} (leader ${limit.leader ?? "none"}, tokens waiting ${
          limit.tokens_waiting ?? "-"
        })`,
      );
    }
    if (limit.max_concurrency !== null) {
      parts.push(`slots ${limit.slots_in_use ?? 0}/${limit.max_concurrency} in use`);
    }
    parts.push(`tasks waiting ${limit.waiting}`);
    return parts.join("  ");
  });
}
