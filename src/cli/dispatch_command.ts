/**
 * `dts dispatch --config F`: send the config's jobs concurrently, follow
 * them live, report, save the results JSON.
 * @module
 */
import { type Command, Option } from "commander";
import type { Config } from "../config/schema.ts";
import { OutcomeCollector } from "../dispatch/collect_outcomes.ts";
import { dispatch, type DispatchJob } from "../dispatch/dispatcher.ts";
import { pingWorkers } from "../dispatch/ping_workers.ts";
import { toResultsDocument } from "../dispatch/results_document.ts";
import { saveResults } from "../dispatch/results_file.ts";
import { createRunId } from "../dispatch/run_id.ts";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { loadPlugins } from "../plugin/load_plugins.ts";
import { resolveRoute } from "../plugin/resolve_tasks.ts";
import { JsonReporter } from "../report/json_reporter.ts";
import { PrettyReporter } from "../report/pretty_reporter.ts";
import type { DispatchRun, Reporter, TaskEvent } from "../report/task_event.ts";
import type { MemoryBroker } from "../transport/memory_broker.ts";
import type { Transport } from "../transport/transport.ts";
import { type CliContext, useColor } from "./cli_context.ts";
import { parsePositiveDurationArg } from "./option_parsers.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  openBroker,
} from "./common_options.ts";

/** The config a dispatch uses when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "config/test-config.yml";

interface DispatchFlags extends CommonFlags {
  output?: "pretty" | "json";
  timeout?: number;
  resultsDir?: string;
  save: boolean;
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
      "where to save dispatch_results_<timestamp>.json (env DTS_RESULTS_DIR)",
    )
    .option("--no-save", "do not save the results file")
    .option(
      "--timeout <time>",
      "per task: no result by then → TIMEOUT, e.g. 30s (config dispatch.timeout)",
      parsePositiveDurationArg,
    );
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
The config defaults to ${DEFAULT_CONFIG_PATH}.

Examples:
  dts dispatch --config config/test-config.yml
  dts dispatch --config config/test-config.yml --output json --no-save | jq .summary
  DTS_BROKER_URL=amqp://user:pass@rabbit:5672/ dts dispatch -c my.yml --results-dir out/

Exit code 0 when every task succeeded, 1 when any failed or timed out, 130 when
interrupted (SIGINT, SIGTERM): it stops waiting at once, marks every task without a
result INTERRUPTED, and prints and saves the partial document with "interrupted": true.`,
  );
  command.action((flags: DispatchFlags) => run(() => dispatchCommand(flags, ctx)));
}

/** Run one dispatch; resolves to the exit code. */
export async function dispatchCommand(
  flags: DispatchFlags,
  ctx: CliContext,
  options: { memoryBroker?: MemoryBroker } = {},
): Promise<number> {
  const config = await loadCommandConfig(
    { ...flags, config: flags.config ?? DEFAULT_CONFIG_PATH },
    ctx,
    { resultsDir: flags.resultsDir, dispatchTimeoutMs: flags.timeout },
  );
  const logger = commandLogger(config, ctx);
  const plugins = await loadPlugins({ dirs: flags.plugins ?? [] });
  const jobs = expandJobs(
    config,
    (ref) => resolveRoute(ref, { tasks: config.tasks, plugins, allowUnknown: true }),
  );
  if (jobs.length === 0) {
    throw new UsageError(`Cannot dispatch: the config names no jobs (dispatch.jobs is empty)`);
  }
  const output = flags.output ?? (ctx.stdoutIsTerminal ? "pretty" : "json");
  const reporter: Reporter = output === "json"
    ? new JsonReporter({ write: (text) => ctx.stdout(text) })
    : new PrettyReporter({
      write: (text) => ctx.stdout(text),
      color: useColor(ctx, ctx.stdoutIsTerminal),
    });

  const transport = await openBroker(config, logger, options);
  try {
    const run = await runDispatch(config, jobs, transport, reporter, logger, ctx.shutdown);
    await safely(logger, () => reporter.finish(run));
    if (flags.save) {
      const path = await saveResults(toResultsDocument(run), {
        dir: config.results.dir,
        now: new Date(run.startedAt),
      });
      if (output === "json") logger.info("Results saved", { path });
      else ctx.stdout(`Results saved to ${path}\n`);
    }
    if (ctx.shutdown.aborted) return 130;
    return run.tasks.every((task) => task.status === "SUCCESS") ? 0 : 1;
  } finally {
    await transport.close();
  }
}

/** Every send of the config's jobs, `count` times each, in order. */
export function expandJobs(
  config: Config,
  route: (ref: string) => { name: string; queue: string },
): DispatchJob[] {
  return config.dispatch.jobs.flatMap((job) => {
    const { name, queue } = route(job.task);
    return Array.from({ length: job.count }, () => ({
      task: name,
      queue,
      args: job.args,
      kwargs: job.kwargs,
    }));
  });
}

async function runDispatch(
  config: Config,
  jobs: DispatchJob[],
  transport: Transport,
  reporter: Reporter,
  logger: Logger,
  signal: AbortSignal,
): Promise<DispatchRun> {
  const expected = config.dispatch.expectedWorkers;
  const workers = await pingWorkers(transport, {
    timeoutMs: 1000,
    expected: expected ?? undefined,
  });
  if (expected !== null && workers.length < expected) {
    logger.warn("Fewer workers answered than expected", {
      expected,
      answered: workers.length,
      workers,
    });
  }
  await warnAboutIdleQueues(transport, jobs, logger);
  const startedAt = Date.now();
  const runId = createRunId(new Date(startedAt));
  await safely(logger, () =>
    reporter.begin({
      name: config.name,
      broker: transport.url,
      expectedWorkers: expected,
      workers,
      taskCount: jobs.length,
      startedAt,
    }));
  const collector = new OutcomeCollector();
  const events = dispatch({ transport, jobs, timeoutMs: config.dispatch.timeoutMs, signal });
  for await (const event of events) {
    collector.add(event);
    await safely(logger, () => reporter.report(event as TaskEvent));
  }
  return {
    name: config.name,
    runId,
    broker: transport.url,
    startedAt,
    finishedAt: Date.now(),
    expectedWorkers: expected,
    workers,
    tasks: collector.outcomes(),
    interrupted: signal.aborted,
  };
}

/** Pre-flight: say which task queues no worker consumes (their tasks would wait until the timeout). */
async function warnAboutIdleQueues(
  transport: Transport,
  jobs: readonly DispatchJob[],
  logger: Logger,
): Promise<void> {
  for (const queue of new Set(jobs.map((job) => job.queue))) {
    const info = await transport.inspectQueue(queue);
    if (info === null || info.consumers === 0) {
      logger.warn("No worker consumes this queue yet; its tasks wait until one does", {
        queue,
        exists: info !== null,
        waiting: info?.messages ?? 0,
      });
    }
  }
}

/** A reporter that throws is logged and ignored: reporting never loses a result. */
async function safely(logger: Logger, work: () => unknown): Promise<void> {
  try {
    await work();
  } catch (error) {
    logger.warn("Reporter failed", { error });
  }
}
