/**
 * Tasks waiting, in order, for something a limit hands out (a token, a
 * slot); a waiter whose signal aborts leaves the line and rejects.
 * @module
 */

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
  signal: AbortSignal;
  onAbort(): void;
}

/** A first-come, first-served line of waiters. */
export class WaitLine<T> {
  #waiters: Waiter<T>[] = [];
  #onLeave: () => void;

  /** `onLeave` runs after a waiter gave up (its signal aborted). */
  constructor(onLeave: () => void) {
    this.#onLeave = onLeave;
  }

  /** How many wait now. */
  get length(): number {
    return this.#waiters.length;
  }

  /** Wait in line until `serve()` reaches this waiter, or `signal` aborts. */
  join(signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const waiter: Waiter<T> = {
      resolve,
      reject,
      signal,
      onAbort: () => {
        const index = this.#waiters.indexOf(waiter);
        if (index < 0) return;
        this.#waiters.splice(index, 1);
        reject(signal.reason);
        this.#onLeave();
      },
    };
    signal.addEventListener("abort", waiter.onAbort, { once: true });
    this.#waiters.push(waiter);
    return promise;
  }

  /** Hand `value` to the first waiter; false when nobody waits. */
  serve(value: T): boolean {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return false;
    waiter.signal.removeEventListener("abort", waiter.onAbort);
    waiter.resolve(value);
    return true;
  }

  /** Reject every waiter with `reason`. */
  rejectAll(reason: unknown): void {
    for (const waiter of this.#waiters.splice(0)) {
      waiter.signal.removeEventListener("abort", waiter.onAbort);
      waiter.reject(reason);
    }
  }
}
