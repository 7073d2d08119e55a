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

/** The running attempts, by message. */
export class InFlightTasks {
  #running = new Map<string, { task: ActiveTask; recorded: PromiseWithResolvers<boolean> }>();

  /** How many attempts run now. */
  get size(): number {
    return this.#running.size;
  }

  /** An attempt starts; call `done(recorded)` when its outcome is safe on the broker, or not. */
  start(task: ActiveTask): { done(recorded: boolean): void } {
    const key = messageKey(task.id, task.retries);
    const entry = { task, recorded: Promise.withResolvers<boolean>() };
    this.#running.set(key, entry);
    return {
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

  /** What runs, for `inspect active`. */
  list(): ActiveTask[] {
    return [...this.#running.values()].map((entry) => entry.task);
  }
}
