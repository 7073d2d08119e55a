/**
 * A counting semaphore: at most `size` holders at once, waiters served in order.
 * @module
 */

/** Bounds concurrent work without polling. */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot create semaphore: size must be a whole number >= 1, got ${size}`,
      );
    }
    this.#free = size;
  }

  /** Wait for a free slot and take it. */
  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Give a slot back, waking the longest waiter. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }
}
