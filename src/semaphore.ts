/**
 * A counting semaphore: at most `size` holders at once, waiters served in
 * order. The size may change while it is held (a worker's autoscaler moves
 * it): a larger size lets waiters in at once; a smaller one takes nothing
 * away from the holders, it only keeps new ones out until enough have
 * released.
 * @module
 */

interface Waiter {
  resolve(): void;
}

/** Bounds concurrent work without polling. */
export class Semaphore {
  #size: number;
  #taken = 0;
  readonly #waiters: Waiter[] = [];

  /** @throws {RangeError} when `size` is not a whole number >= 0 */
  constructor(size: number) {
    checkSize("create semaphore", size);
    this.#size = size;
  }

  /** How many may hold it at once now. */
  get size(): number {
    return this.#size;
  }

  /** How many hold it now; above `size` for a while after a shrink. */
  get taken(): number {
    return this.#taken;
  }

  /** How many wait in `acquire()`. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Wait for a free slot and take it. An abort before that rejects with the
   * signal's reason, and the slot is not taken.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#taken < this.#size && this.#waiters.length === 0) {
      this.#taken++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Give a slot back, waking the longest waiter if the size allows.
   * @throws {RangeError} when nothing holds it (a release without an acquire)
   */
  release(): void {
    if (this.#taken === 0) {
      throw new RangeError("Cannot release semaphore: it is not held");
    }
    this.#taken--;
    this.#wake();
  }

  /**
   * Change the size. Growing wakes waiters at once; shrinking never takes a
   * slot from a holder.
   * @throws {RangeError} when `size` is not a whole number >= 0
   */
  resize(size: number): void {
    checkSize("resize semaphore", size);
    this.#size = size;
    this.#wake();
  }

  #wake(): void {
    while (this.#taken < this.#size && this.#waiters.length > 0) {
      this.#taken++;
      this.#waiters.shift()!.resolve();
    }
  }
}

function checkSize(action: string, size: number): void {
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`Cannot ${action}: size must be a whole number >= 0, got ${size}`);
  }
}
