/**
 * Shared by the built-in plugins: a stand-in for real work that honours the
 * task's abort signal. Lives in a sub-folder so the plugin loader, which reads
 * only the top level of a plugin folder, does not take it for a plugin.
 * @module
 */

/** How long to work: `kwargs.work_ms`, else `args[0]`, else `fallbackMs`. */
export function workTime(
  ctx: { args: readonly unknown[]; kwargs: Readonly<Record<string, unknown>> },
  fallbackMs: number,
): number {
  const value = ctx.kwargs.work_ms ?? ctx.args[0];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallbackMs;
}

/** Resolve after `ms`; reject with the signal's reason if it aborts first. */
export function simulateWork(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    // No work: no timer. Even a 0 ms timer costs about 2 ms in a plugin host
    // (a Web Worker), which would be most of a no-op task's round trip.
    if (ms <= 0) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
