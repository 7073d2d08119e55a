/**
 * `dts dispatch --resume <run id>`: what the journal already holds, which
 * tasks still lack a result, and whether the run can be resumed at all.
 * @module
 */
import { UsageError } from "../errors.ts";
import { redactUrl } from "../log/redact.ts";
import type { TaskEvent } from "../report/task_event.ts";
import type { Transport } from "../transport/transport.ts";
import type { Journal } from "./journal_reader.ts";
import type { ExpectedTask } from "./reply_collector.ts";

/** What a resume starts from. */
export interface ResumePlan {
  journal: Journal;
  /**
   * The journal's events to replay into the outcomes (and the reporter):
   * a SENT for every task in send order, then what happened, leaving out
   * the TIMEOUT and INTERRUPTED of tasks the resume waits for again.
   */
  history: TaskEvent[];
  /** Tasks without a result (never answered, timed out, or interrupted): what to wait for. */
  missing: ExpectedTask[];
  /** When the dispatcher last wrote to the journal (epoch ms). */
  lastWriteAt: number;
}

/**
 * Plan a resume. Each missing task keeps its original deadline (sent at +
 * the run's timeout) unless `timeoutMs` gives every one that long from `now`.
 * @throws {UsageError} when the run finished already
 */
export function planResume(
  journal: Journal,
  options: { now: number; timeoutMs?: number; modifiedAt?: number | null },
): ResumePlan {
  const { header, entries } = journal;
  const finished = entries.find((e) => e.kind === "finished");
  if (finished?.kind === "finished") {
    const where = finished.results_file === null
      ? "its results were not saved (--no-save)"
      : `its results are in "${finished.results_file}"`;
    throw new UsageError(
      `Cannot resume run "${header.run_id}": it finished at ${iso(finished.at)}; ${where}`,
    );
  }
  const startedAt = Date.parse(header.started_at);
  const sent = new Map<string, TaskEvent>();
  const waiting = new Map<string, TaskEvent>();
  const final = new Set<string>();
  const retries = new Map<string, number>();
  let lastWriteAt = Math.max(startedAt, options.modifiedAt ?? 0);
  for (const entry of entries) {
    const at = entry.kind === "event" ? entry.event.at : entry.at;
    lastWriteAt = Math.max(lastWriteAt, at);
    if (entry.kind !== "event") continue;
    const event = entry.event;
    if (event.type === "SENT" && !sent.has(event.id)) sent.set(event.id, event);
    if (event.type === "WAITING" && !waiting.has(event.id)) waiting.set(event.id, event);
    if (
      event.type === "SUCCESS" || event.type === "FAILURE" || event.type === "REVOKED" ||
      event.type === "SKIPPED"
    ) {
      final.add(event.id);
    }
    if (event.type === "RETRY") retries.set(event.id, event.retries);
  }
  const history: TaskEvent[] = header.jobs.map((job) =>
    sent.get(job.id) ?? waiting.get(job.id) ?? { type: "SENT", ...job, at: startedAt }
  );
  const known = new Set(header.jobs.map((job) => job.id));
  for (const entry of entries) {
    if (entry.kind !== "event" || !known.has(entry.event.id)) continue;
    const { type, id } = entry.event;
    if (type === "SENT" || type === "WAITING") continue;
    if ((type === "TIMEOUT" || type === "INTERRUPTED") && !final.has(id)) continue;
    history.push(entry.event);
  }
  // Still waiting for other jobs when the dispatcher stopped: never sent, and
  // a resume collects, it does not send; so nothing will come for them.
  for (const [id, event] of waiting) {
    if (sent.has(id) || final.has(id) || !known.has(id)) continue;
    final.add(id);
    history.push({
      type: "SKIPPED",
      id,
      task: event.task,
      queue: event.queue,
      at: options.now,
      error: {
        type: "DependencyError",
        message:
          "its dispatch stopped while it waited for the jobs it comes after; a resume does not send tasks, so dispatch again to run it",
      },
      retries: 0,
    });
  }
  const missing = header.jobs.filter((job) => !final.has(job.id)).map((job): ExpectedTask => {
    const sentAt = sent.get(job.id)?.at ?? startedAt;
    const timeoutMs = options.timeoutMs ?? header.timeout_ms;
    return {
      ...job,
      retries: retries.get(job.id) ?? 0,
      deadline: options.timeoutMs === undefined ? sentAt + timeoutMs : options.now + timeoutMs,
      timeoutMs,
    };
  });
  return { journal, history, missing, lastWriteAt };
}

/**
 * Check that the run's results can still be collected here: the same
 * broker, its reply queue still there, and nobody consuming it.
 * @throws {UsageError} naming what is wrong
 */
export async function checkResumable(
  plan: ResumePlan,
  transport: Transport,
  options: { now: number },
): Promise<void> {
  const { header } = plan.journal;
  const cannot = `Cannot resume run "${header.run_id}"`;
  const broker = redactUrl(transport.url);
  if (broker !== redactUrl(header.broker)) {
    throw new UsageError(
      `${cannot}: it ran on broker "${
        redactUrl(header.broker)
      }", not "${broker}"; give that broker with --broker or DTS_BROKER_URL`,
    );
  }
  if (plan.missing.length === 0) return;
  const info = await transport.inspectQueue(header.reply_queue);
  if (info === null) {
    const expiredBy = plan.lastWriteAt + header.reply_queue_expires_ms;
    const when = expiredBy <= options.now
      ? `it expired (the broker deletes it ${
        formatDuration(header.reply_queue_expires_ms)
      } after the dispatcher stops; the dispatcher last wrote its journal at ${
        iso(plan.lastWriteAt)
      }, so it was gone by ${iso(expiredBy)} at the latest)`
      : `it was deleted (it would not have expired before ${iso(expiredBy)})`;
    throw new UsageError(
      `${cannot}: its reply queue "${header.reply_queue}" no longer exists: ${when}; the results of the ${plan.missing.length} of ${header.jobs.length} tasks not in the journal are lost`,
    );
  }
  if (info.consumers > 0) {
    throw new UsageError(
      `${cannot}: its reply queue "${header.reply_queue}" has a consumer: the dispatcher, or another resume, is still running`,
    );
  }
}

/** `1 h 1 min`, `5 min`, `30 s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (h === 0) return `${min} min`;
  return min === 0 ? `${h} h` : `${h} h ${min} min`;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
