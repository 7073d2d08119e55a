/**
 * A small push-to-pull bridge: a broker callback pushes items, a `for await`
 * loop pulls them. Used by both transports to turn consumer callbacks into an
 * `AsyncIterable<Delivery>`.
 * @module
 */

interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: Error): void;
}

/** An unbounded FIFO that is also an async iterator; ends by `end()`, fails by `fail()`. */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #waiters: Waiter<T>[] = [];
  #ended = false;
  #error: Error | null = null;
  #onReturn: () => void;

  /** `onReturn` runs once when the reader stops early (`break` or `return()`). */
  constructor(onReturn: () => void = () => {}) {
    this.#onReturn = onReturn;
  }

  /** Whether `end()` or `fail()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Hand an item to the next reader; false (item dropped) once ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else this.#items.push(item);
    return true;
  }

  /** Finish after the buffered items have been read. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#flushWaiters();
  }

  /** Throw `error` to the reader after the buffered items have been read. */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#flushWaiters();
  }

  /** Remove and return every item not yet read. */
  takeBuffered(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      return Promise.resolve({ value: this.#items.shift() as T, done: false });
    }
    if (this.#ended) return this.#finish();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) this.#onReturn();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #finish(): Promise<IteratorResult<T>> {
    if (this.#error) {
      const error = this.#error;
      this.#error = null;
      return Promise.reject(error);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  #flushWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (this.#error) {
        waiter.reject(this.#error);
        this.#error = null;
      } else {
        waiter.resolve({ value: undefined, done: true });
      }
    }
  }
}
