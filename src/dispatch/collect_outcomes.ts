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
    if (event.type === "SENT") {
      this.#outcomes.set(event.id, {
        task: event.task,
        id: event.id,
        queue: event.queue,
        status: "TIMEOUT",
        result: null,
        error: null,
        retries: 0,
        runtimeMs: null,
        worker: null,
        sentAt: event.at,
        doneAt: null,
      });
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
        Object.assign(outcome, { status: event.type, error: event.error, retries: event.retries });
        return;
    }
  }

  /** Every task's outcome, in the order they were sent. */
  outcomes(): TaskOutcome[] {
    return [...this.#outcomes.values()];
  }
}
