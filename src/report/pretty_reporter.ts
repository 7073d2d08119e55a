/**
 * `--output pretty`: a live line per state change (or a progress bar for big
 * dispatches), then a results table and the timing summary.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { toResultsDocument } from "../dispatch/results_document.ts";
import { redactUrl } from "../log/redact.ts";
import type { DispatchPlan, DispatchRun, Reporter, TaskEvent } from "./task_event.ts";

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
  INTERRUPTED: "yellow",
};
const BAR_WIDTH = 30;
const REDRAW_EVERY_MS = 100;
const RESULT_WIDTH = 40;
const DETAIL_WIDTH = 120;

/** Human-readable dispatch report; colour only when asked. */
export class PrettyReporter implements Reporter {
  #write: (text: string) => void;
  #color: boolean;
  #interactive: boolean;
  #clock: Clock;
  #progressAbove: number;
  #progress = false;
  #total = 0;
  #done = 0;
  #failed = 0;
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
  }

  /** Print the header: dispatch name, run id and journal, broker, workers that answered, task count. */
  begin(plan: DispatchPlan): void {
    this.#total = plan.taskCount;
    this.#progress = plan.taskCount > this.#progressAbove;
    const answered = plan.workers.length;
    const list = answered === 0 ? "none" : plan.workers.join(", ");
    const expected = plan.expectedWorkers;
    const resumed = plan.missing !== undefined;
    const lines = [
      this.#paint("bold", `Dispatch: ${plan.name}${resumed ? " (resumed)" : ""}`),
      `  run      ${plan.runId}${plan.journal === null ? "" : `  (journal ${plan.journal})`}`,
      `  broker   ${redactUrl(plan.broker)}`,
      expected === null
        ? `  workers  ${answered} answered: ${list}`
        : `  workers  ${answered} of ${expected} expected answered: ${list}`,
      `  tasks    ${plan.taskCount}${resumed ? `, ${plan.missing} without a result yet` : ""}`,
    ];
    if (expected !== null && answered < expected) {
      const missing = expected - answered;
      lines.push(this.#paint(
        "yellow",
        `WARN: ${missing} of ${expected} expected worker${expected === 1 ? "" : "s"} missing`,
      ));
    }
    this.#write(lines.join("\n") + "\n\n");
  }

  /** Print one event, or update the progress bar. */
  report(event: TaskEvent): void {
    const failed = event.type === "FAILURE" || event.type === "TIMEOUT";
    const final = failed || event.type === "SUCCESS" || event.type === "INTERRUPTED";
    if (event.type === "RETRY") this.#retrying.add(event.id);
    if (final && !this.#finished.has(event.id)) {
      this.#finished.add(event.id);
      this.#retrying.delete(event.id);
      this.#done += 1;
      if (failed) this.#failed += 1;
    }
    if (!this.#progress) {
      this.#write(this.#eventLine(event) + "\n");
      return;
    }
    if (event.type === "FAILURE" || event.type === "TIMEOUT") {
      this.#write((this.#barShown ? "\r\x1b[K" : "") + this.#eventLine(event) + "\n");
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
    out.push(...this.#table(
      ["TASK", "ID", "QUEUE", "STATUS", "RESULT", "WORKER", "TIME ms", "RETRIES"],
      rows,
    ));
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
      `  total      ${formatMs(doc.total_ms)} (dispatch)   sequential ${
        formatMs(doc.sequential_ms)
      } (sum of runtimes)   speed-up ${speedUp}`,
      `  average    ${formatMs(s.avg_ms)}   fastest ${formatMs(s.min_ms)}   slowest ${
        formatMs(s.max_ms)
      }`,
      `  retries    ${s.retries}`,
      `  tasks      ${this.#paint("green", `succeeded ${s.succeeded}`)}   ${
        s.failed > 0 ? this.#paint("red", failed) : failed
      }${interrupted}   of ${doc.tasks.length}`,
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
    return `${timeOfDay(event.at)}  ${state}  ${event.task}  ${shortId(event.id)}  ${
      eventDetail(event)
    }`.trimEnd();
  }

  #drawProgress(last: boolean): void {
    const total = Math.max(this.#total, this.#done);
    const fraction = total === 0 ? 1 : this.#done / total;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar =
      `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${this.#done}/${total} done` +
      ` · ${this.#failed} failed · ${this.#retrying.size} retrying`;
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

  #table(header: string[], rows: string[][]): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const numeric = new Set([6, 7]);
    const render = (cells: string[], isHeader: boolean): string =>
      cells.map((cell, i) => {
        const padded = numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
        if (isHeader) return this.#paint("dim", padded);
        return i === 3 ? this.#paint(STATE_PAINT[cell] ?? "dim", padded) : padded;
      }).join("  ").trimEnd();
    return [render(header, true), ...rows.map((row) => render(row, false))];
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
    default:
      return "";
  }
}

function showError(error: { type?: unknown; message?: unknown }): string {
  return `${String(error.type ?? "Error")}: ${String(error.message ?? "")}`;
}

/** A value as short JSON; values JSON cannot carry fall back to `String()`. */
function showValue(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // circular or bigint: String() below
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function truncate(text: string, width: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, " ");
  return oneLine.length <= width ? oneLine : `${oneLine.slice(0, width - 1)}…`;
}

function shortId(id: string): string {
  return id.length <= 8 ? id : `${id.slice(0, 8)}…`;
}

function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  return ms < 10_000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Local time of day as `HH:MM:SS.mmm`. */
function timeOfDay(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}
