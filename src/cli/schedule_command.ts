/**
 * `dts schedule --config F`: fire the config's schedules. Run it on two or
 * more hosts for failover: one fires each schedule, the others take over
 * when it dies (`schedule/scheduler.ts`).
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { resolveRoute } from "../plugin/resolve_tasks.ts";
import { Scheduler } from "../schedule/scheduler.ts";
import { systemClock } from "../clock.ts";
import type { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { type CliContext, waitForShutdown } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandPlugins,
  loadConfigWithSection,
  openBroker,
} from "./common_options.ts";

/** Register `schedule`; `run` records the exit code. */
export function registerScheduleCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("schedule")
    .description("send the config's schedules' tasks at their times; run two or more for failover");
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
The config's schedules section names them:
  schedules:
    nightly: { task: a, cron: "0 2 * * *", timezone: Europe/Berlin, kwargs: { full: true } }
    heartbeat: { task: b, every: 30s, jitter: 2s, catch_up: none }

Each slot fires at most once across every dts schedule on the broker: the one holding a
schedule's lease (queue dts.schedule.<name>.leader) fires it, records the slot first
(dts.schedule.<name>.fired), and sends the task with an id derived from the schedule and the
slot. When it dies another takes over within the broker's notice of the lost connection and
goes on from the recorded slot. Slots missed while none ran: catch_up latest (default) fires
the latest once, none skips them.

Examples:
  dts schedule --config config/test-config.yml
  dts schedule --config prod.yml --log-format pretty

Stops on SIGINT (exit 130) or SIGTERM (exit 0).`,
  );
  command.action((flags: CommonFlags) => run(() => scheduleCommand(flags, ctx)));
}

/** Fire the schedules until SIGINT/SIGTERM. */
export async function scheduleCommand(
  flags: CommonFlags,
  ctx: CliContext,
  options: { memoryBroker?: MemoryBroker } = {},
): Promise<number> {
  const config = await loadConfigWithSection(flags, ctx, {
    what: "the scheduler",
    section: "schedules",
    says: "says what to send when",
    example: "{ tick: { task: a, every: 30s } }",
  });
  const schedules = Object.values(config.schedules);
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  const entries = schedules.map((schedule) => {
    try {
      const route = resolveRoute(schedule.task, { tasks: config.tasks, plugins });
      return { schedule, route };
    } catch (error) {
      throw new UsageError(`schedules.${schedule.name}.task: ${(error as Error).message}`);
    }
  });
  const transport = await openBroker(config, logger, ctx, options);
  const stop = new AbortController();
  try {
    const scheduler = new Scheduler({
      transport,
      schedules: entries,
      logger,
      clock: systemClock,
      queueOptions: { type: config.worker.queueType },
    });
    const { done } = await scheduler.start(stop.signal);
    logger.info("Scheduler started", { schedules: entries.map((e) => e.schedule.name) });
    await waitForShutdown(ctx);
    logger.info("Scheduler stopping", { signal: String(ctx.shutdown.reason) });
    stop.abort();
    await done;
  } finally {
    stop.abort();
    await transport.close();
  }
  return ctx.shutdown.reason === "SIGINT" ? 130 : 0;
}
