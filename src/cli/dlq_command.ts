/**
 * `dts dlq list|replay|purge --task a`: inspect, re-queue or drop the dead
 * letters of a task's queue (`<queue>.dead`).
 * @module
 */
import type { Command } from "commander";
import { type DeadLetterSummary } from "../dlq/dead_letter_summary.ts";
import { listDeadLetters, purgeDeadLetters, replayDeadLetters } from "../dlq/dead_letter_queue.ts";
import { resolveRoute } from "../plugin/resolve_tasks.ts";
import { deadLetterQueueName } from "../transport/transport.ts";
import type { CliContext } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  loadCommandPlugins,
  openBroker,
} from "./common_options.ts";
import { parsePositiveInt } from "./option_parsers.ts";

interface DlqFlags extends CommonFlags {
  task: string;
  json?: boolean;
  limit?: number;
}

type DlqAction = "list" | "replay" | "purge";

const DESCRIPTIONS: Readonly<Record<DlqAction, string>> = {
  list: "show dead letters with their reasons; they stay in the dead-letter queue",
  replay: "re-queue dead letters to the task queue with a fresh retry count",
  purge: "drop dead letters for good",
};

/** Register `dlq` and its `list`, `replay` and `purge` subcommands. */
export function registerDlqCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const dlq = program.command("dlq")
    .description("inspect, re-queue or drop dead-lettered tasks (<queue>.dead)");
  dlq.addHelpText(
    "after",
    `
Examples:
  dts dlq list --task a
  dts dlq list --task a --json --limit 10
  dts dlq replay --task a
  dts dlq purge --task a --limit 100

Listing reads the messages and gives them all back: none is lost, they come
back marked redelivered (a quorum queue puts them at its tail). Replay publishes
each with retries 0, no eta and no x-dts-* headers, and without its reply_to
unless that reply queue still exists (nobody else waits for the result), waits
for the broker's confirm, and only then removes the dead letter.`,
  );
  for (const action of ["list", "replay", "purge"] as const) {
    const command = dlq.command(action)
      .description(DESCRIPTIONS[action])
      .requiredOption("-t, --task <task>", "task: a config key (a) or task name (task_a)")
      .option("--json", "print one JSON document")
      .option(
        "--limit <n>",
        "handle at most this many, oldest first (default: all)",
        parsePositiveInt,
      );
    addCommonOptions(command, { plugins: true });
    command.addHelpText(
      "after",
      `\nExamples:\n  dts dlq ${action} --task a\n  dts dlq ${action} --task a --json --limit 10`,
    );
    command.action((flags: DlqFlags) => run(() => dlqCommand(action, flags, ctx)));
  }
}

/** Run one dlq action; resolves to the exit code (0; errors map to 2 or 3 in main). */
export async function dlqCommand(
  action: DlqAction,
  flags: DlqFlags,
  ctx: CliContext,
): Promise<number> {
  const config = await loadCommandConfig(flags, ctx);
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  const route = resolveRoute(flags.task, { tasks: config.tasks, plugins, allowUnknown: true });
  const deadQueue = deadLetterQueueName(route.queue);
  const transport = await openBroker(config, logger, ctx);
  try {
    const limit = { limit: flags.limit };
    if (action === "list") {
      const listing = await listDeadLetters(transport, route.queue, limit);
      ctx.stdout(
        flags.json
          ? `${
            JSON.stringify(
              {
                task: route.name,
                queue: route.queue,
                dead_queue: deadQueue,
                total: listing.total,
                messages: listing.messages,
              },
              null,
              2,
            )
          }\n`
          : formatListing(deadQueue, listing.total, listing.messages),
      );
    } else if (action === "replay") {
      const replayed = await replayDeadLetters(transport, route.queue, limit);
      ctx.stdout(
        flags.json
          ? `${JSON.stringify({ queue: route.queue, dead_queue: deadQueue, replayed })}\n`
          : `Replayed ${plural(replayed)} from ${deadQueue} to ${route.queue}\n`,
      );
    } else {
      const purged = await purgeDeadLetters(transport, route.queue, limit);
      ctx.stdout(
        flags.json
          ? `${JSON.stringify({ queue: route.queue, dead_queue: deadQueue, purged })}\n`
          : `Purged ${plural(purged)} from ${deadQueue}\n`,
      );
    }
    return 0;
  } finally {
    await transport.close();
  }
}

function formatListing(
  deadQueue: string,
  total: number,
  messages: readonly DeadLetterSummary[],
): string {
  const lines = [
    `${deadQueue}: ${plural(total)}${
      messages.length < total ? ` (showing ${messages.length})` : ""
    }`,
  ];
  messages.forEach((m, i) => {
    lines.push(
      `${i + 1}. ${m.task ?? "?"} ${m.id ?? "?"} retries=${m.retries ?? "?"} dead_at=${
        m.dead_at ?? "?"
      } from=${m.original_queue ?? "?"}`,
    );
    lines.push(`   reason: ${m.reason ?? "?"}`);
    if (m.args !== null || m.kwargs !== null) {
      lines.push(
        `   args: ${shorten(m.args, ARGS_WIDTH)}  kwargs: ${shorten(m.kwargs, ARGS_WIDTH)}`,
      );
    }
    if (m.error_type !== null || m.error_message !== null) {
      lines.push(`   error: ${m.error_type ?? "Error"}: ${m.error_message ?? ""}`);
    }
  });
  return `${lines.join("\n")}\n`;
}

/** How much of args and kwargs `dlq list` shows; `--json` has them whole. */
const ARGS_WIDTH = 60;

function shorten(value: unknown, width: number): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function plural(n: number): string {
  return `${n} dead letter${n === 1 ? "" : "s"}`;
}
