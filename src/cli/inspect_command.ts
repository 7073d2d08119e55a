/**
 * `dts inspect active|reserved|revoked|stats|registered|ping`: ask every live worker
 * (dts's and Celery's: the same broadcast as `celery inspect`) and print
 * what each answered.
 * @module
 */
import { Argument, type Command, Option } from "commander";
import { inspectWorkers } from "../client/inspect_workers.ts";
import type { CliContext } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  openBroker,
} from "./common_options.ts";
import { parsePositiveInt } from "./option_parsers.ts";

const WHAT = ["active", "reserved", "revoked", "stats", "registered", "ping"] as const;
type What = typeof WHAT[number];

interface InspectFlags extends CommonFlags {
  json?: boolean;
  timeout?: number;
}

/** Register `inspect`. */
export function registerInspectCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("inspect")
    .description(
      "ask every live worker what it runs, what waits, what it knows is revoked, its stats",
    )
    .addArgument(
      new Argument(
        "<what>",
        "active (running tasks), reserved (received, waiting to start), revoked (task ids), stats, registered (task names), ping",
      ).choices(WHAT),
    )
    .addOption(
      new Option("--timeout <ms>", "how long to wait for answers").argParser(parsePositiveInt)
        .default(1000),
    )
    .option("--json", "print one JSON document: worker name → answer");
  addCommonOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  dts inspect active
  dts inspect reserved          # tasks waiting for a fleet-wide rate limit or concurrency slot
  dts inspect revoked --json

Celery workers on the same broker answer too (it is Celery's inspect broadcast).`,
  );
  command.action((what: What, flags: InspectFlags) => run(() => inspectCommand(what, flags, ctx)));
}

/** Ask and print; resolves to the exit code (0, or 1 when no worker answered). */
export async function inspectCommand(
  what: What,
  flags: InspectFlags,
  ctx: CliContext,
): Promise<number> {
  const config = await loadCommandConfig(flags, ctx);
  const logger = commandLogger(config, ctx);
  const transport = await openBroker(config, logger, ctx);
  try {
    const replies = await inspectWorkers(transport, {
      method: what,
      timeoutMs: flags.timeout ?? 1000,
    });
    const sorted = [...replies].sort(([a], [b]) => a.localeCompare(b));
    if (flags.json) {
      ctx.stdout(`${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
    } else if (sorted.length === 0) {
      ctx.stdout("No worker answered\n");
    } else {
      for (const [worker, reply] of sorted) ctx.stdout(`${worker}\n${formatReply(what, reply)}`);
    }
    return sorted.length === 0 ? 1 : 0;
  } finally {
    await transport.close();
  }
}

function formatReply(what: What, reply: unknown): string {
  if (what !== "stats" && what !== "ping" && Array.isArray(reply)) {
    if (reply.length === 0) return "  (none)\n";
    return reply.map((item) => `  ${describeItem(item)}\n`).join("");
  }
  return `  ${JSON.stringify(reply)}\n`;
}

function describeItem(item: unknown): string {
  if (typeof item === "string") return item;
  const task = item as { id?: unknown; name?: unknown; time_start?: unknown; args?: unknown };
  if (typeof task?.id === "string") {
    return `${task.id} ${String(task.name ?? "?")} args=${JSON.stringify(task.args ?? [])}`;
  }
  return JSON.stringify(item);
}
