/**
 * The order of a dispatch's jobs: a task is sent once every job it comes
 * `after` has ended, with a dependency's result first in its args when it
 * names one in `args_from`; when a dependency did not fully succeed it is
 * skipped instead (unless `on_failure: continue`), and so are the tasks that
 * wait for it in turn. It decides; the dispatcher sends and settles.
 * @module
 */
import type { FinalStatus } from "../report/task_event.ts";
import type { DispatchJob } from "./dispatcher.ts";

/** A task of the graph: a `DispatchJob` with its id. */
export type GraphTask = DispatchJob & { id: string };

/** What one ended task lets happen. */
export interface GraphStep {
  /** Tasks whose dependencies all ended: send them, with these args. */
  send: GraphTask[];
  /** Tasks that can no longer start, and why. */
  skip: { task: GraphTask; reason: string }[];
}

interface JobState {
  /** Its tasks, in send order: `args_from`'s list follows it. */
  taskIds: string[];
  /** Tasks not ended yet. */
  open: number;
  /** Ended tasks by status other than SUCCESS. */
  notSucceeded: Map<FinalStatus, number>;
}

interface TaskState {
  task: GraphTask;
  /** Jobs in `after` that have not ended yet. */
  waitingFor: number;
  status: FinalStatus | null;
  result: unknown;
}

/** The dependency state of one dispatch; see the module notes. */
export class JobGraph {
  readonly #tasks = new Map<string, TaskState>();
  readonly #jobs = new Map<string, JobState>();
  /** Job id → the tasks that wait for it. */
  readonly #waiters = new Map<string, string[]>();

  constructor(tasks: readonly GraphTask[]) {
    for (const task of tasks) {
      if (!task.job) continue;
      const job = this.#jobs.get(task.job) ??
        { taskIds: [], open: 0, notSucceeded: new Map<FinalStatus, number>() };
      job.taskIds.push(task.id);
      job.open++;
      this.#jobs.set(task.job, job);
    }
    for (const task of tasks) {
      // An id no job has cannot be waited for (the config check refuses it).
      const after = [...new Set(task.after ?? [])].filter((ref) => this.#jobs.has(ref));
      this.#tasks.set(task.id, { task, waitingFor: after.length, status: null, result: null });
      for (const ref of after) {
        const waiters = this.#waiters.get(ref) ?? [];
        waiters.push(task.id);
        this.#waiters.set(ref, waiters);
      }
    }
  }

  /** True when some task waits for another job. */
  get ordered(): boolean {
    return this.#waiters.size > 0;
  }

  /** The tasks to send at the start: those that wait for nothing. */
  initial(): GraphTask[] {
    return [...this.#tasks.values()].filter((t) => t.waitingFor === 0).map((t) => t.task);
  }

  /** True while `id` waits for other jobs (not sent yet). */
  isHeld(id: string): boolean {
    const state = this.#tasks.get(id);
    return state !== undefined && state.waitingFor > 0;
  }

  /**
   * Task `id` ended with `status`: what may now be sent or skipped. Each
   * task counts once; a later call for it returns nothing.
   */
  settle(id: string, status: FinalStatus, result: unknown): GraphStep {
    const step: GraphStep = { send: [], skip: [] };
    const state = this.#tasks.get(id);
    if (!state || state.status !== null) return step;
    state.status = status;
    state.result = status === "SUCCESS" ? result : null;
    const jobId = state.task.job;
    if (!jobId) return step;
    const job = this.#jobs.get(jobId)!;
    if (status !== "SUCCESS") job.notSucceeded.set(status, (job.notSucceeded.get(status) ?? 0) + 1);
    if (--job.open > 0) return step;
    for (const waiterId of this.#waiters.get(jobId) ?? []) {
      const waiter = this.#tasks.get(waiterId)!;
      if (--waiter.waitingFor > 0 || waiter.status !== null) continue;
      const failed = this.#failedDependencies(waiter.task);
      if (failed.length > 0 && waiter.task.onFailure !== "continue") {
        step.skip.push({ task: waiter.task, reason: skipReason(failed) });
      } else step.send.push(this.#withArgs(waiter.task));
    }
    return step;
  }

  #failedDependencies(task: GraphTask): { id: string; job: JobState }[] {
    return [...new Set(task.after ?? [])]
      .map((id) => ({ id, job: this.#jobs.get(id) }))
      .filter((dep): dep is { id: string; job: JobState } =>
        dep.job !== undefined && dep.job.notSucceeded.size > 0
      );
  }

  #withArgs(task: GraphTask): GraphTask {
    if (!task.argsFrom) return task;
    const source = this.#jobs.get(task.argsFrom);
    if (!source) return task;
    const results = source.taskIds.map((id) => this.#tasks.get(id)!.result);
    // One task: its result; a fan-in of several: the list, in send order.
    const value = results.length === 1 ? results[0] : results;
    return { ...task, args: [value, ...task.args] };
  }
}

/** `"build" did not succeed (1 FAILURE)`, for each failed dependency. */
function skipReason(failed: { id: string; job: JobState }[]): string {
  const parts = failed.map(({ id, job }) => {
    const counts = [...job.notSucceeded].map(([status, n]) => `${n} ${status}`).join(", ");
    return `"${id}" did not succeed (${counts} of ${job.taskIds.length})`;
  });
  const which = failed.length === 1 ? "the job it waits for" : "jobs it waits for";
  return `${which} ${parts.join("; ")}; with on_failure: continue it would be sent anyway`;
}

/**
 * The jobs with an id, as the live view shows them, when some job waits for
 * another; [] for a dispatch without order (its view stays as it was).
 */
export function graphJobs(
  tasks: readonly DispatchJob[],
): { id: string; task: string; count: number; after: readonly string[] }[] {
  if (!tasks.some((task) => (task.after?.length ?? 0) > 0)) return [];
  const jobs = new Map<string, { id: string; task: string; count: number; after: string[] }>();
  for (const task of tasks) {
    if (!task.job) continue;
    const job = jobs.get(task.job);
    if (job) job.count++;
    else {jobs.set(task.job, {
        id: task.job,
        task: task.task,
        count: 1,
        after: [...task.after ?? []],
      });}
  }
  return [...jobs.values()];
}
