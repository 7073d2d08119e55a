/**
 * Deadlines of many waits, kept by one sweep on the clock instead of one
 * timer per wait: a sender with 5,000 tasks in flight needs one timer.
 * @module
 */
import type { Clock } from "../clock.ts";

/** Tells, once each, which keys passed their deadline. */
export class Deadlines<K> {
  readonly #clock: Clock;
  readonly #onExpired: (key: K) => void;
  readonly #due = new Map<K, number>();
  readonly #stop = new AbortController();
  readonly #everyMs: number;
  #sweeping = false;

  /** Check every `everyMs` (the finest resolution needed). */
  constructor(clock: Clock, everyMs: number, onExpired: (key: K) => void) {
    this.#clock = clock;
    this.#everyMs = Math.max(1, everyMs);
    this.#onExpired = onExpired;
  }

  /** How many keys wait. */
  get size(): number {
    return this.#due.size;
  }

  /** Expire `key` at `at` (epoch ms on the clock), unless removed first. */
  add(key: K, at: number): void {
    this.#due.set(key, at);
    if (!this.#sweeping) void this.#sweep();
  }

  /** `key` no longer waits. */
  remove(key: K): void {
    this.#due.delete(key);
  }

  /** Expire what is due now. */
  sweepNow(): void {
    const now = this.#clock.now();
    for (const [key, at] of this.#due) {
      if (at > now) continue;
      this.#due.delete(key);
      this.#onExpired(key);
    }
  }

  /** Stop sweeping; nothing expires after this. */
  close(): void {
    this.#stop.abort();
    this.#due.clear();
  }

  async #sweep(): Promise<void> {
    this.#sweeping = true;
    try {
      while (this.#due.size > 0 && !this.#stop.signal.aborted) {
        await this.#clock.sleep(this.#everyMs, this.#stop.signal);
        this.sweepNow();
      }
    } catch {
      // closed
    } finally {
      this.#sweeping = false;
    }
  }
}
