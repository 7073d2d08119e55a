/**
 * `dts dispatch --config F`: send the config's jobs concurrently, follow
 * them live, report, save the results JSON. `dts dispatch --resume RUN_ID`
 * collects the rest of a run whose dispatcher died or was interrupted.
 * @module
 */
import { openSenderEvents } from "../events/sender_events.ts";
import { type Command, Option } from "commander";
import type { Config } from "../config/schema.ts";
import { expandJobs } from "../dispatch/expand_jobs.ts";
import { exitCodeOf, type FollowRunOptions } from "../dispatch/follow_run.ts";
import { runNewDispatch } from "../dispatch/new_run.ts";
import { runResumedDispatch } from "../dispatch/resumed_run.ts";
import { findRun, type FoundRun, resumeCommandLine } from "../dispatch/run_journal.ts";
import { ConfigError, UsageError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { resolveRoute } from "../plugin/resolve_tasks.ts";
import { JsonReporter } from "../report/json_reporter.ts";
import { PrettyReporter } from "../report/pretty_reporter.ts";
import type { DispatchRun, Reporter } from "../report/task_event.ts";
import { revokeTasks } from "../client/revoke_tasks.ts";
import type { Transport } from "../transport/transport.ts";
import type { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { type CliContext, useColor } from "./cli_context.ts";
import { parsePositiveDurationArg } from "./option_parsers.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  loadCommandConfigDocument,
  loadCommandPlugins,
  openBroker,
  taskQueueOptions,
} from "./common_options.ts";
import { unknownTaskIssues } from "./task_refs.ts";
import { ensureWritableDir } from "./writable_dir.ts";

/** The config a dispatch uses when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "config/test-config.yml";

interface DispatchFlags extends CommonFlags {
  output?: "pretty" | "json";
  /** `--events`: send Celery's task-sent events. */
  events?: boolean;
  timeout?: number;
  resultsDir?: string;
  save: boolean;
  resume?: string;
  cancelOnInterrupt?: boolean;
}

/** Register `dispatch`. */
export function registerDispatchCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("dispatch")
    .description(
      "send the config's jobs concurrently, wait for their results, report and save them",
    )
    .addOption(
      new Option(
        "-o, --output <format>",
        "pretty (default on a terminal) or json (one document on stdout)",
      )
        .choices(["pretty", "json"]),
    )
    .option(
      "--results-dir <dir>",
      "where to save dispatch_results_<timestamp>.json and the run's journal (env DTS_RESULTS_DIR)",
    )
    .option("--no-save", "save neither the results file nor a journal (the run cannot be resumed)")
    .option(
      "--timeout <time>",
      "per task: no result by then → TIMEOUT, e.g. 30s (config dispatch.timeout); with --resume: wait this long from now instead of until the run's own deadlines",
      parsePositiveDurationArg,
    )
    .option(
      "--events",
      "send Celery's task-sent event on celeryev for each task, for celery events and Flower (dispatch.events)",
    )
    .option(
      "--cancel-on-interrupt",
      "on Ctrl-C or SIGTERM, revoke (with terminate) the tasks still without a result; on a terminal it asks instead",
    )
    .option(
      "--resume <run-id>",
      "collect the results still missing of run <run-id> (its dispatcher died or was interrupted) and report the whole run",
    );
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
The config defaults to ${DEFAULT_CONFIG_PATH}.

Every run has a run id (YYYYmmdd_HHMMSS-xxxxxx), shown at its start and in the
results as run_id. Results are collected in the reply queue dts.reply.<run id>,
which outlives a dispatcher killed outright by the run's timeout plus 1 hour, and
are written, each before it is acknowledged, to the journal
<results dir>/dispatch_<run id>.jsonl. --resume reads the journal, takes what
waits in that queue, waits for the rest (until the run's deadlines, or --timeout
from now), then prints and saves the complete results like the run would have.

Examples:
  dts dispatch --config config/test-config.yml
  dts dispatch --config config/test-config.yml --output json --no-save | jq .summary
  DTS_BROKER_URL=amqp://user:pass@rabbit:5672/ dts dispatch -c my.yml --results-dir out/
  dts dispatch --resume 20261128_100000-4f09a2 --results-dir out/

Exit code 0 when every task succeeded, 1 when any failed, timed out or was revoked, 2 for bad
usage (also: an unknown run id, or a run whose reply queue expired), 130 when
interrupted (SIGINT, SIGTERM): it stops waiting at once, marks every task without a
result INTERRUPTED, and prints and saves the partial document with "interrupted": true.
Those tasks still run; with --cancel-on-interrupt (or "y" to the question a
terminal gets) they are revoked, running ones terminated, like dts revoke.`,
  );
  command.action((flags: DispatchFlags) => run(() => dispatchCommand(flags, ctx)));
}

/** Run one dispatch (or resume one); resolves to the exit code. */
export async function dispatchCommand(
  flags: DispatchFlags,
  ctx: CliContext,
  options: { memoryBroker?: MemoryBroker } = {},
): Promise<number> {
  if (flags.resume !== undefined) return await resumeCommand(flags.resume, flags, ctx, options);
  const configPath = flags.config ?? DEFAULT_CONFIG_PATH;
  const doc = await loadCommandConfigDocument({ ...flags, config: configPath }, ctx, {
    resultsDir: flags.resultsDir,
    dispatchTimeoutMs: flags.timeout,
    dispatchEvents: flags.events,
  });
  const { config } = doc;
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  // A job for a task nobody defines would wait for a worker that never comes.
  const unknown = unknownTaskIssues(doc, plugins, ["jobs"]);
  if (unknown.length > 0) throw new ConfigError(doc.file, unknown);
  const jobs = expandJobs(config, (ref) => resolveRoute(ref, { tasks: config.tasks, plugins }))
    .map((job) => ({ ...job, id: crypto.randomUUID() }));
  if (jobs.length === 0) {
    throw new UsageError(`Cannot dispatch: the config names no jobs (dispatch.jobs is empty)`);
  }
  // Before anything is sent: a run must not end in "cannot save" after the work is done.
  if (flags.save) await ensureWritableDir(config.results.dir, "save results");
  const output = flags.output ?? (ctx.stdoutIsTerminal ? "pretty" : "json");
  const transport = await openBroker(config, logger, ctx, options);
  const sentEvents = await openSenderEvents(transport, config.dispatch.events);
  try {
    const run = await runNewDispatch({
      transport,
      name: config.name,
      configPath,
      jobs,
      timeoutMs: config.dispatch.timeoutMs,
      expectedWorkers: config.dispatch.expectedWorkers,
      queueOptions: taskQueueOptions(config),
      resultsDir: flags.save ? config.results.dir : null,
      signal: ctx.shutdown,
      logger,
      sentEvents,
      follow: (runId) => commonFollow(flags, ctx, config.results.dir, logger, output, runId),
    });
    await sentEvents?.flush(1000);
    if (run.interrupted) await cancelInterrupted(run, flags, ctx, transport, logger);
    return exitCodeOf(run);
  } finally {
    await transport.close();
  }
}

/**
 * After an interrupt: revoke the tasks without a result when asked to
 * (`--cancel-on-interrupt`, or "y" on a terminal). Terminate too: the
 * person stopping the run wants the work stopped, not only unstarted.
 */
async function cancelInterrupted(
  run: DispatchRun,
  flags: DispatchFlags,
  ctx: CliContext,
  transport: Transport,
  logger: Logger,
): Promise<void> {
  const ids = run.tasks.filter((task) => task.status === "INTERRUPTED").map((task) => task.id);
  if (ids.length === 0) return;
  const what = ids.length === 1 ? "the task" : `the ${ids.length} tasks`;
  const cancel = flags.cancelOnInterrupt === true ||
    (await ctx.askYesNo?.(`Cancel ${what} it sent that have no result yet?`) ?? false);
  if (!cancel) return;
  const outcome = await revokeTasks(transport, ids, {
    terminate: true,
    reason: "its dispatch was interrupted and cancelled",
  });
  logger.warn("Revoked the tasks of the interrupted dispatch", {
    run_id: run.runId,
    revoked: outcome.revocations.length,
    stored: outcome.stored,
    ...(outcome.problem === null ? {} : { error: outcome.problem }),
  });
}

/** `--resume RUN_ID`: the journal's results, then the missing ones from the reply queue. */
async function resumeCommand(
  runId: string,
  flags: DispatchFlags,
  ctx: CliContext,
  options: { memoryBroker?: MemoryBroker },
): Promise<number> {
  const { config, found } = await findResumable(runId, flags, ctx);
  const logger = commandLogger(config, ctx);
  const output = flags.output ?? (ctx.stdoutIsTerminal ? "pretty" : "json");
  const transport = await openBroker(config, logger, ctx, options);
  try {
    const run = await runResumedDispatch({
      transport,
      found,
      signal: ctx.shutdown,
      // Results go beside the journal, wherever --config would put them.
      follow: commonFollow(flags, ctx, found.dir, logger, output, runId),
    });
    return exitCodeOf(run);
  } finally {
    await transport.close();
  }
}

/**
 * Find the run's journal in the results folder (`--results-dir`, env, the
 * config given or the default one), then take the broker from the config
 * the run itself used, unless `--config` names one.
 */
async function findResumable(
  runId: string,
  flags: DispatchFlags,
  ctx: CliContext,
): Promise<{ config: Config; found: FoundRun & { dir: string } }> {
  const configPath = flags.config ??
    (await isFile(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  const overrides = { resultsDir: flags.resultsDir };
  let config = await loadCommandConfig({ ...flags, config: configPath }, ctx, overrides);
  const dir = config.results.dir;
  const found = await findRun(runId, dir, { now: Date.now(), timeoutMs: flags.timeout });
  const used = found.plan.journal.header.config;
  if (flags.config === undefined && used !== null && used !== configPath && await isFile(used)) {
    config = await loadCommandConfig({ ...flags, config: used }, ctx, overrides);
  }
  return { config, found: { ...found, dir } };
}

/** What `followRun()` needs from the command line, whichever way the run started. */
function commonFollow(
  flags: DispatchFlags,
  ctx: CliContext,
  resultsDir: string,
  logger: Logger,
  output: "pretty" | "json",
  runId: string,
): Omit<FollowRunOptions, "run" | "events" | "journal" | "replyQueue"> & { reporter: Reporter } {
  const reporter: Reporter = output === "json"
    ? new JsonReporter({ write: (text) => ctx.stdout(text) })
    : new PrettyReporter({
      write: (text) => ctx.stdout(text),
      color: useColor(ctx, ctx.stdoutIsTerminal),
      // Forced colour on a pipe still gets whole lines, not `\r` redraws.
      interactive: ctx.stdoutIsTerminal,
      width: ctx.stdoutColumns,
    });
  return {
    reporter,
    logger,
    signal: ctx.shutdown,
    resultsDir: flags.save ? resultsDir : null,
    output,
    say: (text) => ctx.stdout(text),
    resumeCommand: resumeCommandLine(runId, resultsDir),
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
