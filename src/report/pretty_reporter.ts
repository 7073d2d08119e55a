/**
 * `--output pretty`: a live line per state change (or a progress bar for big
 * dispatches), then a results table and the timing summary.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { toResultsDocument } from "./results_document.ts";
import { renderTable, type TableColumn } from "./fit_table.ts";
import { redactUrl } from "../log/redact.ts";
import type { DispatchPlan, DispatchRun, Reporter, TaskEvent } from "./task_event.ts";
import { type JobMove, type JobPhase, JobProgress } from "./job_progress.ts";
import { formatMs, shortId, showError, showValue, timeOfDay, truncate } from "./text_format.ts";

/** Options of `PrettyReporter`. */
export interface PrettyReporterOptions {
  /** Receives text as it is produced (whole lines, or `\r` redraws of the progress bar). */
  write: (text: string) => void;
  /** ANSI colours on. */
  color: boolean;
  /** Redraw the progress bar in place with `\r` (a terminal). @default color */
  interactive?: boolean;
  /** Limits progress bar redraws on a terminal. @default the system clock */
  clock?: Clock;
  /** Above this many tasks, show a progress bar instead of a line per event. @default 50 */
  progressAbove?: number;
  /** Terminal width to fit lines and the results table to; null: no limit. @default null */
  width?: number | null;
}

type Paint = "green" | "red" | "yellow" | "cyan" | "dim" | "bold";
const ANSI: Record<Paint, string> = {
  green: "\x1b[32m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  cyan: "\x1b[36m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
};
const STATE_PAINT: Record<string, Paint> = {
  SENT: "dim",
  RECEIVED: "cyan",
  STARTED: "cyan",
  RETRY: "yellow",
  SUCCESS: "green",
  FAILURE: "red",
  TIMEOUT: "red",
  REVOKED: "yellow",
  INTERRUPTED: "yellow",
  WAITING: "dim",
  SKIPPED: "yellow",
};
const PHASE_PAINT: Record<JobPhase, Paint> = {
  waiting: "dim",
  running: "cyan",
  succeeded: "green",
  failed: "red",
  skipped: "yellow",
};
const BAR_WIDTH = 30;
const REDRAW_EVERY_MS = 100;
const RESULT_WIDTH = 40;
const DETAIL_WIDTH = 120;
/** Shortest a timeline line's detail is cut to, however narrow the terminal. */
const MIN_DETAIL_WIDTH = 20;

/** The results table: RESULT gives way first, then the id (full in JSON), worker, queue, task. */
const RESULT_COLUMNS: readonly TableColumn[] = [
  { header: "TASK", minWidth: 8, shrinkOrder: 5 },
  { header: "ID", minWidth: 9, shrinkOrder: 2 },
  { header: "QUEUE", minWidth: 8, shrinkOrder: 4 },
  { header: "STATUS" },
  { header: "RESULT", minWidth: 8, shrinkOrder: 1 },
  { header: "WORKER", minWidth: 10, shrinkOrder: 3 },
  { header: "TIME ms", numeric: true },
  { header: "RETRIES", numeric: true },
];

/** Human-readable dispatch report; colour only when asked. */
export class PrettyReporter implements Reporter {
  #write: (text: string) => void;
  #color: boolean;
  #interactive: boolean;
  #clock: Clock;
  #progressAbove: number;
  #width: number | null;
  #taskWidth = 0;
  #progress = false;
  #total = 0;
  #done = 0;
  #failed = 0;
  #skipped = 0;
  #jobs = new JobProgress();
  #retrying = new Set<string>();
  #finished = new Set<string>();
  #lastDecile = -1;
  #lastPrintedDone = -1;
  #lastDrawAt = -Infinity;
  #barShown = false;

  constructor(options: PrettyReporterOptions) {
    this.#write = options.write;
    this.#color = options.color;
    this.#interactive = options.interactive ?? options.color;
    this.#clock = options.clock ?? systemClock;
    this.#progressAbove = options.progressAbove ?? 50;
    this.#width = options.width ?? null;
  }

  /** Print the header: dispatch name, run id and journal, broker, workers that answered, task count. */
  begin(plan: DispatchPlan): void {
    this.#total = plan.taskCount;
    this.#jobs = new JobProgress(plan.jobs);
    this.#progress = plan.taskCount > this.#progressAbove;
    // Timeline columns line up however long the task names are.
    this.#taskWidth = Math.max(0, ...(plan.taskNames ?? []).map((name) => name.length));
    const serving = plan.workers.length;
    const list = serving === 0 ? "none" : plan.workers.join(", ");
    const others = Math.max(0, (plan.answered ?? serving) - serving);
    const elsewhere = others === 0 ? "" : ` (and ${others} serving other queues)`;
    const expected = plan.expectedWorkers;
    const resumed = plan.missing !== undefined;
    const lines = [
      this.#paint("bold", `Dispatch: ${plan.name}${resumed ? " (resumed)" : ""}`),
      `  run      ${plan.runId}`,
      ...(plan.journal === null ? [] : [`  journal  ${plan.journal}`]),
      `  broker   ${redactUrl(plan.broker)}`,
      expected === null
        ? `  workers  ${serving} serve these queues: ${list}${elsewhere}`
        : `  workers  ${serving} of ${expected} expected serve these queues: ${list}${elsewhere}`,
      `  tasks    ${plan.taskCount}${resumed ? `, ${plan.missing} without a result yet` : ""}`,
      ...JobProgress.describe(plan.jobs ?? []).map((job, i) =>
        `  ${i === 0 ? "jobs  " : "      "}   ${job}`
      ),
    ];
    if (expected !== null && serving < expected) {
      const missing = expected - serving;
      lines.push(this.#paint(
        "yellow",
        `WARN: ${missing} of ${expected} expected worker${expected === 1 ? "" : "s"} missing`,
      ));
    }
    this.#write(lines.join("\n") + "\n\n");
  }

  /** Print one event, or update the progress bar. */
  report(event: TaskEvent): void {
    const failed = event.type === "FAILURE" || event.type === "TIMEOUT" ||
      event.type === "REVOKED";
    const final = failed || event.type === "SUCCESS" || event.type === "INTERRUPTED" ||
      event.type === "SKIPPED";
    if (event.type === "RETRY") this.#retrying.add(event.id);
    if (final && !this.#finished.has(event.id)) {
      this.#finished.add(event.id);
      this.#retrying.delete(event.id);
      this.#done += 1;
      if (failed) this.#failed += 1;
      if (event.type === "SKIPPED") this.#skipped += 1;
    }
    const move = this.#jobs.take(event);
    if (!this.#progress) {
      this.#write(this.#eventLine(event) + "\n");
      if (move !== null) this.#write(this.#jobLine(move) + "\n");
      return;
    }
    // Above the bar: failures, and the jobs' moves (a few per run).
    const above = [
      ...(failed ? [this.#eventLine(event)] : []),
      ...(move === null ? [] : [this.#jobLine(move)]),
    ];
    if (above.length > 0) {
      this.#write((this.#barShown ? "\r\x1b[K" : "") + above.join("\n") + "\n");
      this.#barShown = false;
    }
    if (final) this.#drawProgress(false);
  }

  /** Print the results table and the timing summary. */
  finish(run: DispatchRun): Promise<void> {
    if (this.#progress) this.#drawProgress(true);
    const doc = toResultsDocument(run);
    const out: string[] = ["", this.#paint("bold", "Results")];
    const listed = this.#progress ? doc.tasks.filter((t) => t.status !== "SUCCESS") : doc.tasks;
    const rows = listed.map((t) => [
      t.task,
      t.id, // the full id: it is what `dlq` and logs are searched by
      t.queue,
      t.status,
      t.status === "SUCCESS" || t.error == null
        ? truncate(showValue(t.result), RESULT_WIDTH)
        : truncate(showError(t.error), RESULT_WIDTH),
      t.worker ?? "-",
      t.runtime_ms === null ? "-" : t.runtime_ms.toFixed(1),
      String(t.retries),
    ]);
    out.push(...renderTable(RESULT_COLUMNS, rows, {
      maxWidth: this.#width,
      style: (padded, cell, column, header) => {
        if (header) return this.#paint("dim", padded);
        return column === 3 ? this.#paint(STATE_PAINT[cell] ?? "dim", padded) : padded;
      },
    }));
    if (listed.length < doc.tasks.length) {
      out.push(
        this.#paint("dim", `(${doc.tasks.length - listed.length} succeeded tasks not listed)`),
      );
    }
    const s = doc.summary;
    const speedUp = doc.total_ms > 0 ? `${(doc.sequential_ms / doc.total_ms).toFixed(2)}x` : "-";
    const failed = `failed ${s.failed}`;
    const interrupted = s.interrupted > 0 || doc.interrupted
      ? `   ${this.#paint("yellow", `interrupted ${s.interrupted}`)}`
      : "";
    out.push(
      "",
      this.#paint("bold", "Timing"),
      // Two lines, so the summary fits 80 columns.
      `  total      ${formatMs(doc.total_ms)} (dispatch)   sequential ${
        formatMs(doc.sequential_ms)
      } (sum of runtimes)`,
      `  speed-up   ${speedUp}`,
      `  average    ${formatMs(s.avg_ms)}   fastest ${formatMs(s.min_ms)}   slowest ${
        formatMs(s.max_ms)
      }`,
      `  retries    ${s.retries}`,
      `  tasks      ${this.#paint("green", `succeeded ${s.succeeded}`)}   ${
        s.failed > 0 ? this.#paint("red", failed) : failed
      }${interrupted}${
        s.skipped > 0 ? `   ${this.#paint("yellow", `skipped ${s.skipped}`)}` : ""
      }   of ${doc.tasks.length}`,
      ...(this.#jobs.shown ? [`  jobs       ${this.#jobs.summary()}`] : []),
    );
    if (doc.interrupted) {
      out.push(this.#paint(
        "yellow",
        `Interrupted: ${s.interrupted} of ${doc.tasks.length} tasks had no result yet`,
      ));
    }
    this.#write(out.join("\n") + "\n");
    return Promise.resolve();
  }

  #eventLine(event: TaskEvent): string {
    const state = this.#paint(STATE_PAINT[event.type] ?? "dim", event.type.padEnd(8));
    const task = event.task.padEnd(this.#taskWidth);
    const id = shortId(event.id).padEnd(9);
    // Visible width before the detail: time 12, state 8, id 9, and four gaps of 2.
    const before = 12 + 8 + task.length + 9 + 8;
    const room = this.#width === null ? Infinity : Math.max(MIN_DETAIL_WIDTH, this.#width - before);
    const detail = eventDetail(event);
    return `${timeOfDay(event.at)}  ${state}  ${task}  ${id}  ${
      detail.length > room ? truncate(detail, room) : detail
    }`.trimEnd();
  }

  /** `10:00:01.250  JOB       test      running: after build`. */
  #jobLine(move: JobMove): string {
    const state = this.#paint("bold", "JOB".padEnd(8));
    const phase = this.#paint(PHASE_PAINT[move.phase], move.phase);
    return `${timeOfDay(move.at)}  ${state}  ${move.job}  ${phase}: ${move.detail}`;
  }

  #drawProgress(last: boolean): void {
    const total = Math.max(this.#total, this.#done);
    const fraction = total === 0 ? 1 : this.#done / total;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar =
      `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${this.#done}/${total} done` +
      ` · ${this.#failed} failed · ${this.#retrying.size} retrying` +
      (this.#skipped > 0 ? ` · ${this.#skipped} skipped` : "") +
      (this.#jobs.shown ? ` · ${this.#jobs.summary()}` : "");
    if (this.#interactive) {
      const now = this.#clock.now();
      if (!last && this.#done < total && now - this.#lastDrawAt < REDRAW_EVERY_MS) return;
      this.#lastDrawAt = now;
      this.#write(`\r${bar}\x1b[K${last ? "\n" : ""}`);
      this.#barShown = !last;
      return;
    }
    // Not a terminal: one line per 10% step, so a CI log stays short.
    const decile = Math.floor(fraction * 10);
    const stepped = decile > this.#lastDecile && decile > 0;
    if (stepped || (last && this.#done !== this.#lastPrintedDone)) {
      this.#lastDecile = Math.max(this.#lastDecile, decile);
      this.#lastPrintedDone = this.#done;
      this.#write(bar + "\n");
    }
  }

  #paint(paint: Paint, text: string): string {
    return this.#color ? `${ANSI[paint]}${text}\x1b[0m` : text;
  }
}

function eventDetail(event: TaskEvent): string {
  switch (event.type) {
    case "SENT":
      return event.queue;
    case "RECEIVED":
    case "STARTED":
      return event.worker;
    case "RETRY": {
      const delay = event.delayMs == null ? "" : ` in ${formatMs(event.delayMs)}`;
      const why = event.error == null ? "" : `: ${showError(event.error)}`;
      return truncate(`retries ${event.retries}, retry${delay}${why}`, DETAIL_WIDTH);
    }
    case "SUCCESS":
      return `${formatMs(event.runtimeMs)}  ${event.worker ?? "-"}  ${
        truncate(showValue(event.result), RESULT_WIDTH)
      }`;
    case "FAILURE":
    case "REVOKED":
      return `${formatMs(event.runtimeMs)}  ${event.worker ?? "-"}  ${
        event.error == null ? "failed" : truncate(showError(event.error), DETAIL_WIDTH)
      }`;
    case "TIMEOUT":
      return event.error == null
        ? "no result in time"
        : truncate(showError(event.error), DETAIL_WIDTH);
    case "INTERRUPTED":
      return event.error == null
        ? "dispatch interrupted"
        : truncate(showError(event.error), DETAIL_WIDTH);
    case "WAITING":
      return `${event.queue}  after ${(event.after ?? []).join(", ")}`;
    case "SKIPPED":
      return event.error == null ? "skipped" : truncate(event.error.message, DETAIL_WIDTH);
    default:
      return "";
  }
}
