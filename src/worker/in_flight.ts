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

/** A task received and waiting to start (for a fleet-wide limit): what `inspect reserved` lists. */
interface Waiting {
  task: ActiveTask;
  /** Aborts when the task is revoked: it stops waiting. */
  revoke: AbortController;
}

/** The running attempts, by message, and the tasks waiting to start. */
export class InFlightTasks {
  #running = new Map<string, Running>();
  #waiting = new Set<Waiting>();

  /**
   * A task waits to start (`startedAt` is when it began waiting); call
   * `done()` when it starts or goes. `revokeSignal` aborts when it is
   * revoked meanwhile, with or without terminate: it never starts then.
   */
  reserve(task: ActiveTask): { revokeSignal: AbortSignal; done(): void } {
    const entry = { task, revoke: new AbortController() };
    this.#waiting.add(entry);
    return { revokeSignal: entry.revoke.signal, done: () => this.#waiting.delete(entry) };
  }

  /** Stop the waits of task `id` with `reason`; how many there were. */
  cancelWaiting(id: string, reason: Error): number {
    let count = 0;
    for (const entry of this.#waiting) {
      if (entry.task.id !== id || entry.revoke.signal.aborted) continue;
      entry.revoke.abort(reason);
      count++;
    }
    return count;
  }

  /** What waits to start, for `inspect reserved`. */
  listReserved(): ActiveTask[] {
    return [...this.#waiting].map((entry) => entry.task);
  }

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
