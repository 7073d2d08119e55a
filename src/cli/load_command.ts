/**
 * `dts load --task a (--count N | --duration S)`: a load test with
 * throughput and latency percentiles.
 * @module
 */
import { openSenderEvents } from "../events/sender_events.ts";
import type { Command } from "commander";
import { dirname } from "node:path";
import { DtsError, fsReason, UsageError } from "../errors.ts";
import { renderLoadReportHtml, type ReportCharts } from "../load/html_report.ts";
import { redactUrl } from "../log/redact.ts";
import { type LoadReport, runLoad } from "../load/load_runner.ts";
import { resolveRoute } from "../plugin/resolve_tasks.ts";
import type { CliContext } from "./cli_context.ts";
import {
  addCommonOptions,
  commandLogger,
  type CommonFlags,
  loadCommandConfig,
  loadCommandPlugins,
  openBroker,
  taskQueueOptions,
} from "./common_options.ts";
import {
  parsePositiveDurationArg,
  parsePositiveInt,
  parsePositiveNumber,
  parsePriority,
} from "./option_parsers.ts";
import { loadProgressOutput } from "./load_progress_output.ts";
import { ensureWritableDir } from "./writable_dir.ts";
import {
  bucketSeries,
  type FinishedSample,
  latencyHistogram,
  niceBucketMs,
} from "../ui/chart_series.ts";
import { PAGE_CSS } from "../ui/page_css.ts";
import { readAsset } from "../ui/ui_assets.ts";

interface LoadFlags extends CommonFlags {
  task?: string;
  count?: number;
  duration?: number;
  rate?: number;
  concurrency?: number;
  json?: boolean;
  report?: string;
  args?: string;
  priority?: number;
  /** `--events`: send Celery's task-sent events. */
  events?: boolean;
}

/** Register `load`. */
export function registerLoadCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const command = program.command("load")
    .description("load test one task: throughput and publish-to-result latency percentiles")
    .option(
      "-t, --task <task>",
      "task to send (config key or plugin name; default: config load.task)",
    )
    .option("--count <n>", "send this many tasks", parsePositiveInt)
    .option("--duration <time>", "send for this long, e.g. 30s or 2m", parsePositiveDurationArg)
    .option(
      "--rate <per-second>",
      "sends per second (default: as fast as concurrency allows)",
      parsePositiveNumber,
    )
    .option("--concurrency <n>", "tasks in flight at once (default 100)", parsePositiveInt)
    .option("--args <json>", "task args as a JSON array, e.g. '[0]'")
    .option(
      "--priority <n>",
      "AMQP priority of the tasks, 0..255: honoured when tasks.<key>.max_priority makes the queue a priority queue",
      parsePriority,
    )
    .option(
      "--events",
      "send Celery's task-sent event on celeryev for each task (dispatch.events), e.g. to measure its cost",
    )
    .option("--json", "print one JSON document")
    .option("--report <file.html>", "also write an HTML report");
  addCommonOptions(command, { plugins: true });
  command.addHelpText(
    "after",
    `
Examples:
  dts load --task a --count 5000 --json
  dts load --task a --duration 30s --rate 200 --concurrency 50
  dts load --config config/test-config.yml --report load.html   # uses the config's load section

Exit code 0 when every task succeeded, 1 when any failed or timed out, 130 when interrupted
(SIGINT, SIGTERM): tasks still in flight then count as "interrupted", apart from "timed_out".`,
  );
  command.action((flags: LoadFlags) => run(() => loadCommand(flags, ctx)));
}

/** Run a load test; resolves to the exit code. */
export async function loadCommand(flags: LoadFlags, ctx: CliContext): Promise<number> {
  const config = await loadCommandConfig(flags, ctx, {
    loadTask: flags.task,
    loadCount: flags.count,
    loadDurationMs: flags.duration,
    loadRate: flags.rate,
    loadConcurrency: flags.concurrency,
    dispatchEvents: flags.events,
  });
  const load = config.load;
  if (load.task === null) throw new UsageError("Cannot run load test: name a task with --task");
  if (load.count === null && load.durationMs === null) {
    throw new UsageError("Cannot run load test: give --count N or --duration S");
  }
  const args = parseArgs(flags.args);
  // Checked before anything is sent, so a load test never ends in "cannot write".
  if (flags.report) await ensureWritableDir(dirname(flags.report), "write the report");
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins(flags.plugins ?? []);
  // Only a task the config or a plugin defines: any other would wait for a worker that never comes.
  const route = resolveRoute(load.task, { tasks: config.tasks, plugins });
  const transport = await openBroker(config, logger, ctx);
  const progress = loadProgressOutput({
    target: { count: load.count, durationMs: load.durationMs },
    bar: !flags.json && ctx.stderrIsTerminal,
    width: ctx.stderrColumns,
    write: (text) => ctx.stderr(text),
    logger,
  });
  // Only for --report: one small record per result, for its charts.
  const samples: FinishedSample[] = [];
  const startedMs = Date.now();
  let report: LoadReport;
  try {
    const sentEvents = await openSenderEvents(transport, config.dispatch.events);
    report = await runLoad({
      transport,
      task: route.name,
      queue: route.queue,
      queueOptions: route.maxPriority === undefined
        ? taskQueueOptions(config)
        : { ...taskQueueOptions(config), maxPriority: route.maxPriority },
      priority: flags.priority,
      args,
      count: load.count ?? undefined,
      durationMs: load.durationMs ?? undefined,
      rate: load.rate,
      concurrency: load.concurrency,
      timeoutMs: config.dispatch.timeoutMs,
      signal: ctx.shutdown,
      onProgress: (counts) => progress.onProgress(counts),
      onResult: flags.report
        ? (sample) => samples.push({ atMs: sample.atMs, ms: sample.latencyMs, ok: sample.ok })
        : undefined,
      sentEvents,
    });
    await sentEvents?.flush(1000);
  } finally {
    progress.finish();
    await transport.close();
  }
  if (flags.report) {
    await Deno.writeTextFile(
      flags.report,
      renderLoadReportHtml(report, {
        broker: redactUrl(transport.url),
        at: new Date(),
        charts: await reportCharts(samples, startedMs),
      }),
    ).catch((error) => {
      throw new DtsError(`Cannot write the report "${flags.report}": ${fsReason(error)}`, {
        cause: error,
      });
    });
  }
  ctx.stdout(flags.json ? `${JSON.stringify(report)}\n` : formatLoadReport(report));
  if (ctx.shutdown.aborted) return 130;
  return report.failed === 0 && report.timed_out === 0 ? 0 : 1;
}

/** The dashboard's charts over a load test's results. */
async function reportCharts(samples: FinishedSample[], startedMs: number): Promise<ReportCharts> {
  const toMs = samples.reduce((last, s) => Math.max(last, s.atMs), startedMs + 1000);
  return {
    script: await readAsset("load_report.js"),
    css: PAGE_CSS,
    data: {
      series: bucketSeries(samples, {
        fromMs: startedMs,
        toMs,
        bucketMs: niceBucketMs(toMs - startedMs, 60),
      }),
      histogram: latencyHistogram(samples.map((s) => s.ms ?? 0)),
    },
  };
}

function parseArgs(text: string | undefined): unknown[] {
  if (text === undefined) return [];
  try {
    const value = JSON.parse(text);
    if (Array.isArray(value)) return value;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError(
    `Cannot run load test: --args must be a JSON array, got ${JSON.stringify(text)}`,
  );
}

function formatLoadReport(r: LoadReport): string {
  const l = r.latency_ms;
  return [
    `Load test: ${r.task}`,
    `  sent ${r.sent}  succeeded ${r.succeeded}  failed ${r.failed}  timed out ${r.timed_out}${
      r.interrupted > 0 ? `  interrupted ${r.interrupted}` : ""
    }`,
    `  duration ${r.duration_s} s  throughput ${r.throughput_per_s} tasks/s`,
    `  latency p50 ${l.p50} ms  p95 ${l.p95} ms  p99 ${l.p99} ms  max ${l.max} ms`,
    "",
  ].join("\n");
}
