/**
 * Calls made while an `AmqpTransport` is disconnected: each waits for the
 * reconnect, for a bounded time.
 * @module
 */

import type { ChannelModel } from "amqplib";

interface Waiter {
  resolve(conn: ChannelModel): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The calls waiting for the next connection. */
export class ConnectionWaiters {
  #waiters = new Set<Waiter>();

  /** The next connection, or the error from `timedOut()` after `ms`. */
  wait(ms: number, timedOut: () => Error): Promise<ChannelModel> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(timedOut());
        }, ms),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Hand the new connection to every waiting call. */
  resolveAll(conn: ChannelModel): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(conn);
    }
    this.#waiters.clear();
  }

  /** Fail every waiting call (the transport closed). */
  rejectAll(error: Error): void {
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters.clear();
  }
}
