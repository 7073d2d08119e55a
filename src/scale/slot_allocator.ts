/**
 * Numbers handed out lowest-free-first: worker numbers (`worker-a-1`, `-2`)
 * and health ports, so a replacement reuses the name and port it replaces.
 * @module
 */

/** Hands out the lowest number >= `first` that is not in use. */
export class SlotAllocator {
  readonly #first: number;
  readonly #used = new Set<number>();

  constructor(first: number) {
    this.#first = first;
  }

  /** Take the lowest free number. */
  acquire(): number {
    let n = this.#first;
    while (this.#used.has(n)) n++;
    this.#used.add(n);
    return n;
  }

  /** Give a number back. */
  release(n: number): void {
    this.#used.delete(n);
  }
}
