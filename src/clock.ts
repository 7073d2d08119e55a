/**
 * Time as a dependency, so tests can drive it.
 * @module
 */

/** Where "now" comes from. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolve after `ms`, or reject with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * The reason to abort a controller with when the abort only cancels a timer
 * or a listener, and nobody reads why. Made once: `abort()` without a reason
 * builds a DOMException with a stack trace each time, about 9 µs, which on a
 * per-task path was 2% of a worker's CPU.
 */
export const CANCELLED = "cancelled";

/**
 * Wait for `work`, but at most `ms` on `clock`; the work itself goes on
 * (it cannot be cancelled). It must not reject.
 */
export async function within(
  work: Promise<void>,
  ms: number,
  clock: Clock = systemClock,
): Promise<void> {
  const cancel = new AbortController();
  await Promise.race([work, clock.sleep(ms, cancel.signal).catch(() => {})]);
  cancel.abort(CANCELLED);
}
