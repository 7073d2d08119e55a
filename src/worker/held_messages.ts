/**
 * The messages this worker process took and has not settled. When its own
 * channel dies, the broker hands them back marked "redelivered"; knowing
 * they were ours tells a lost connection apart from a worker that died
 * (which the poison guard counts). Bounded: the oldest are forgotten first.
 * @module
 */

/** Keys (see `messageKey`) of unsettled messages, oldest first. */
export class HeldMessages {
  #keys = new Set<string>();
  #limit: number;

  /** Remember at most `limit` keys. @default 10_000 */
  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  /** The worker took this message. */
  take(key: string): void {
    this.#keys.delete(key);
    this.#keys.add(key);
    if (this.#keys.size > this.#limit) this.#keys.delete(this.#keys.values().next().value!);
  }

  /** Its outcome is settled: a copy of it coming back would be someone else's. */
  settled(key: string): void {
    this.#keys.delete(key);
  }

  /** Whether this worker took it and has not settled it. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }
}
