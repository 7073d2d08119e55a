/**
 * The attempts a worker is running: what `inspect active` lists, and what a
 * second copy of a running message waits for instead of running it twice
 * (the broker hands a copy back when the worker's channel died under it).
 * @module
 */

/** A task being worked on. */
export interface ActiveTask {
  id: string;
  name: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  retries: number;
  queue: string;
  startedAt: number;
}

/** One message of a task: its id and retries (a retry is a new message with the same id). */
export function messageKey(id: string, retries: number): string {
  return `${id}:${retries}`;
}

interface Running {
  task: ActiveTask;
  recorded: PromiseWithResolvers<boolean>;
  revoke: AbortController;
}

/** The running attempts, by message. */
export class InFlightTasks {
  #running = new Map<string, Running>();

  /** How many attempts run now. */
  get size(): number {
    return this.#running.size;
  }

  /**
   * An attempt starts; call `done(recorded)` when its outcome is safe on the
   * broker, or not. `revokeSignal` aborts when the task is revoked with terminate.
   */
  start(task: ActiveTask): { revokeSignal: AbortSignal; done(recorded: boolean): void } {
    const key = messageKey(task.id, task.retries);
    const entry = {
      task,
      recorded: Promise.withResolvers<boolean>(),
      revoke: new AbortController(),
    };
    this.#running.set(key, entry);
    return {
      revokeSignal: entry.revoke.signal,
      done: (recorded) => {
        if (this.#running.get(key) === entry) this.#running.delete(key);
        entry.recorded.resolve(recorded);
      },
    };
  }

  /** When the message is running now: resolves to whether its outcome got recorded. */
  outcomeOf(key: string): Promise<boolean> | null {
    return this.#running.get(key)?.recorded.promise ?? null;
  }

  /** Abort the attempts of task `id` with `reason`; how many there were. */
  terminate(id: string, reason: Error): number {
    let count = 0;
    for (const entry of this.#running.values()) {
      if (entry.task.id !== id || entry.revoke.signal.aborted) continue;
      entry.revoke.abort(reason);
      count++;
    }
    return count;
  }

  /** What runs, for `inspect active`. */
  list(): ActiveTask[] {
    return [...this.#running.values()].map((entry) => entry.task);
  }
}
