/**
 * Calls made while an `AmqpTransport` is disconnected: each waits for the
 * reconnect, for a bounded time.
 * @module
 */

import type { ChannelModel } from "amqplib";
import type { Clock } from "../../clock.ts";

interface Waiter {
  resolve(conn: ChannelModel): void;
  reject(error: Error): void;
  /** Cancels the waiter's deadline. */
  timer: AbortController;
}

/** The calls waiting for the next connection. */
export class ConnectionWaiters {
  #waiters = new Set<Waiter>();
  #clock: Clock;

  /** Deadlines run on `clock`. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The next connection, or the error from `timedOut()` after `ms`. */
  wait(ms: number, timedOut: () => Error): Promise<ChannelModel> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: new AbortController() };
      this.#waiters.add(waiter);
      this.#clock.sleep(ms, waiter.timer.signal).then(() => {
        this.#waiters.delete(waiter);
        reject(timedOut());
      }, () => {});
    });
  }

  /** Hand the new connection to every waiting call. */
  resolveAll(conn: ChannelModel): void {
    for (const waiter of this.#waiters) {
      waiter.timer.abort();
      waiter.resolve(conn);
    }
    this.#waiters.clear();
  }

  /** Fail every waiting call (the transport closed). */
  rejectAll(error: Error): void {
    for (const waiter of this.#waiters) {
      waiter.timer.abort();
      waiter.reject(error);
    }
    this.#waiters.clear();
  }
}
