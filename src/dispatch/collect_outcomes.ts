/**
 * Fold a dispatch's events into one outcome per task.
 * @module
 */
import type { TaskEvent, TaskOutcome } from "../report/task_event.ts";

/** Keeps the latest known state of every task, in send order. */
export class OutcomeCollector {
  readonly #outcomes = new Map<string, TaskOutcome>();

  /** Take one event into account. */
  add(event: TaskEvent): void {
    if (event.type === "SENT" || event.type === "WAITING") {
      const known = this.#outcomes.get(event.id);
      // A held task keeps its place (when it became WAITING) once it is sent.
      const outcome = known ?? {
        task: event.task,
        id: event.id,
        queue: event.queue,
        status: "SKIPPED",
        result: null,
        error: null,
        retries: 0,
        runtimeMs: null,
        worker: null,
        sentAt: null,
        doneAt: null,
        job: event.job ?? null,
        after: event.after ?? [],
      };
      if (event.type === "SENT") {
        // Until a result comes, a sent task is one that timed out.
        outcome.status = "TIMEOUT";
        outcome.sentAt = event.at;
      }
      this.#outcomes.set(event.id, outcome);
      return;
    }
    const outcome = this.#outcomes.get(event.id);
    if (!outcome) return;
    switch (event.type) {
      case "RECEIVED":
      case "STARTED":
        outcome.worker = event.worker;
        return;
      case "RETRY":
        outcome.retries = event.retries;
        return;
      case "SUCCESS":
        Object.assign(outcome, {
          status: "SUCCESS",
          result: event.result,
          error: null,
          retries: event.retries,
          runtimeMs: event.runtimeMs,
          worker: event.worker ?? outcome.worker,
          doneAt: event.at,
        });
        return;
      case "FAILURE":
      case "REVOKED":
        Object.assign(outcome, {
          status: event.type,
          error: event.error,
          retries: event.retries,
          runtimeMs: event.runtimeMs,
          worker: event.worker ?? outcome.worker,
          doneAt: event.at,
        });
        return;
      case "TIMEOUT":
      case "INTERRUPTED":
      case "SKIPPED":
        Object.assign(outcome, { status: event.type, error: event.error, retries: event.retries });
        return;
    }
  }

  /** Every task's outcome, in the order they were sent (held ones where they began waiting). */
  outcomes(): TaskOutcome[] {
    return [...this.#outcomes.values()];
  }
}
