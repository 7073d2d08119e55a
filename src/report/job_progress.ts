/**
 * The live view of a dispatch's job graph: each job with an id moves from
 * waiting (its tasks held until the jobs it comes after end) to running (sent)
 * to ended (all its tasks final: succeeded, failed, or skipped). Reporters
 * print a line when a job moves, and a one-line summary of them all.
 * @module
 */
import type { DispatchPlan, FinalStatus, TaskEvent } from "./task_event.ts";
import { isFinalEvent } from "./task_event.ts";

/** Where a job is. */
export type JobPhase = "waiting" | "running" | "succeeded" | "failed" | "skipped";

/** A job's move, to print. */
export interface JobMove {
  job: string;
  phase: JobPhase;
  /** e.g. `10 sent, after build` or `9 of 10 succeeded, 1 FAILURE`. */
  detail: string;
  at: number;
}

interface JobCounts {
  task: string;
  count: number;
  after: readonly string[];
  sent: number;
  ended: Map<FinalStatus, number>;
  phase: JobPhase;
}

/** Follows the jobs of one dispatch; see the module notes. */
export class JobProgress {
  readonly #jobs = new Map<string, JobCounts>();
  readonly #jobOfTask = new Map<string, string>();
  readonly #final = new Set<string>();

  constructor(jobs: DispatchPlan["jobs"] = []) {
    for (const job of jobs) {
      this.#jobs.set(job.id, {
        task: job.task,
        count: job.count,
        after: job.after,
        sent: 0,
        ended: new Map(),
        phase: job.after.length === 0 ? "running" : "waiting",
      });
    }
  }

  /** True when there is a graph to show. */
  get shown(): boolean {
    return this.#jobs.size > 0;
  }

  /** Take one event; the job's move when it made one. */
  take(event: TaskEvent): JobMove | null {
    if ((event.type === "SENT" || event.type === "WAITING") && event.job !== undefined) {
      this.#jobOfTask.set(event.id, event.job);
    }
    const id = this.#jobOfTask.get(event.id);
    const job = id === undefined ? undefined : this.#jobs.get(id);
    if (id === undefined || job === undefined) return null;
    if (event.type === "SENT") {
      job.sent++;
      if (job.phase === "waiting") {
        job.phase = "running";
        return { job: id, phase: "running", detail: `after ${job.after.join(", ")}`, at: event.at };
      }
      return null;
    }
    if (!isFinalEvent(event) || this.#final.has(event.id)) return null;
    this.#final.add(event.id);
    const status = event.type as FinalStatus;
    job.ended.set(status, (job.ended.get(status) ?? 0) + 1);
    if (endedCount(job) < job.count) return null;
    job.phase = phaseOfEnded(job);
    return { job: id, phase: job.phase, detail: endedDetail(job), at: event.at };
  }

  /** `build ✓ 1/1 · test 4/10 · report waiting`, for a progress line. */
  summary(): string {
    return [...this.#jobs].map(([id, job]) => `${id} ${shortState(job)}`).join(" · ");
  }

  /** The plan's jobs, for the header: `test (task_b ×10) after build`. */
  static describe(jobs: NonNullable<DispatchPlan["jobs"]>): string[] {
    return jobs.map((job) => {
      const times = job.count === 1 ? "" : ` ×${job.count}`;
      const after = job.after.length === 0 ? "" : ` after ${job.after.join(", ")}`;
      return `${job.id} (${job.task}${times})${after}`;
    });
  }
}

function endedCount(job: JobCounts): number {
  let n = 0;
  for (const count of job.ended.values()) n += count;
  return n;
}

function phaseOfEnded(job: JobCounts): JobPhase {
  if ((job.ended.get("SKIPPED") ?? 0) === job.count) return "skipped";
  return (job.ended.get("SUCCESS") ?? 0) === job.count ? "succeeded" : "failed";
}

function endedDetail(job: JobCounts): string {
  const succeeded = job.ended.get("SUCCESS") ?? 0;
  const others = [...job.ended].filter(([status]) => status !== "SUCCESS")
    .map(([status, n]) => `${n} ${status}`);
  return [`${succeeded} of ${job.count} succeeded`, ...others].join(", ");
}

function shortState(job: JobCounts): string {
  switch (job.phase) {
    case "waiting":
      return "waiting";
    case "running":
      return `${endedCount(job)}/${job.count}`;
    case "succeeded":
      return `✓ ${job.count}/${job.count}`;
    case "failed":
      return `✗ ${job.ended.get("SUCCESS") ?? 0}/${job.count}`;
    case "skipped":
      return "skipped";
  }
}
