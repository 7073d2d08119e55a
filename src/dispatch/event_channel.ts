/**
 * A push-to-pull bridge: callbacks push values, one consumer iterates them.
 * @module
 */

/** An unbounded single-consumer channel that ends on `close()`. */
export class EventChannel<T> implements AsyncIterable<T> {
  readonly #buffer: T[] = [];
  #wake: (() => void) | null = null;
  #closed = false;
  #error: unknown = undefined;

  /** Queue a value for the consumer; ignored after close. */
  push(value: T): void {
    if (this.#closed) return;
    this.#buffer.push(value);
    this.#wakeUp();
  }

  /** End the iteration once the buffer is drained; with `error`, the iteration throws it. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#wakeUp();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      while (this.#buffer.length > 0) yield this.#buffer.shift()!;
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
