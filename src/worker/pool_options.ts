/**
 * A worker's pool as its options give it: a fixed `concurrency`, or
 * `autoscale` bounds that the autoscaler moves the pool between.
 * @module
 */
import type { AutoscaleBounds } from "./autoscale_decision.ts";
import { AUTOSCALE_COOLDOWN_MS } from "./autoscaler.ts";

/** The bounds and pace of an autoscaling worker. */
export interface AutoscaleOptions extends Omit<AutoscaleBounds, "cooldownMs"> {
  /** @default AUTOSCALE_COOLDOWN_MS (30 s) */
  cooldownMs?: number;
  /** Time between two looks at the backlog. @default AUTOSCALE_INTERVAL_MS (1 s) */
  intervalMs?: number;
}

/** The pool to start with, and its autoscale bounds (null for a fixed pool). */
export interface PoolChoice {
  size: number;
  autoscale: AutoscaleBounds | null;
}

/**
 * The starting size (autoscale: `min`) and the bounds of a worker's pool.
 * @throws {TypeError} when both `concurrency` and `autoscale` are given
 * @throws {RangeError} when `concurrency` is not >= 1, or the bounds are not 0 <= min <= max, max >= 1
 */
export function choosePool(
  options: { concurrency?: number; autoscale?: AutoscaleOptions | null },
): PoolChoice {
  const autoscale = options.autoscale ?? null;
  if (autoscale === null) {
    const size = options.concurrency ?? 1;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot create worker: concurrency must be a whole number >= 1, got ${size}`,
      );
    }
    return { size, autoscale: null };
  }
  if (options.concurrency !== undefined) {
    throw new TypeError("Cannot create worker: give either concurrency or autoscale, not both");
  }
  const { min, max } = autoscale;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < 1 || min > max) {
    throw new RangeError(
      `Cannot create worker: autoscale needs whole numbers 0 <= min <= max, max >= 1; got min ${min}, max ${max}`,
    );
  }
  const cooldownMs = autoscale.cooldownMs ?? AUTOSCALE_COOLDOWN_MS;
  return { size: min, autoscale: { min, max, cooldownMs } };
}
