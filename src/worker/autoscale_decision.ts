/**
 * How many attempts a worker should allow at once, from what it holds and
 * what waits in its queues (`dts worker --autoscale`). Pure: the autoscaler
 * feeds it one sample per tick and keeps the memory it returns.
 *
 * Grow at once: work that waits costs latency, and a slot costs next to
 * nothing until it runs something. Shrink one slot per tick, and only once
 * the demand has stayed below the pool size for a whole cool-down (the
 * highest demand seen in that window is what counts, as in Kubernetes'
 * scale-down stabilization window): one sample is noisy (a stream of tasks
 * with gaps looks idle between two of them), and a pool that shrinks the
 * moment it is idle would re-subscribe its consumers over and over.
 * @module
 */

/** The bounds and the pace of an autoscaling pool. */
export interface AutoscaleBounds {
  /** Fewest slots, >= 0. With 0 the worker still takes one message to notice work. */
  min: number;
  /** Most slots, >= max(min, 1). */
  max: number;
  /** How long the demand must stay below the pool size before it shrinks. */
  cooldownMs: number;
}

/** What one tick sees. */
export interface PoolSample {
  /** Epoch ms of the sample. */
  at: number;
  /** The pool size now. */
  size: number;
  /** Attempts holding a slot. */
  running: number;
  /** Deliveries this worker holds that wait for a slot. */
  waiting: number;
  /** Ready messages in the worker's queues (not yet delivered to anyone). */
  ready: number;
}

/** What the decisions remember: since when they look, and the demand of the last cool-down. */
export interface AutoscaleMemory {
  /** Epoch ms of the first sample; null before it. */
  readonly since: number | null;
  /** The demand of the samples within one cool-down, oldest first. */
  readonly recent: readonly { at: number; wanted: number }[];
}

/** A decision: the pool size to have, what the sample wanted, and the memory for the next one. */
export interface AutoscaleDecision {
  size: number;
  /** The demand of this sample within the bounds. */
  wanted: number;
  memory: AutoscaleMemory;
}

/** Memory before the first sample. */
export const NO_MEMORY: AutoscaleMemory = { since: null, recent: [] };

/**
 * The pool size one sample asks for: everything held, waiting and queued,
 * within `[min, max]`.
 */
export function wantedPoolSize(sample: PoolSample, bounds: AutoscaleBounds): number {
  const demand = Math.max(0, sample.running) + Math.max(0, sample.waiting) +
    Math.max(0, sample.ready);
  return Math.min(bounds.max, Math.max(bounds.min, demand));
}

/**
 * The next pool size: up to the demand at once; down by one slot when the
 * highest demand of the last `cooldownMs` is below the size; back inside
 * `[min, max]` at once whatever the demand.
 * @throws {RangeError} when the bounds are not 0 <= min <= max, max >= 1
 */
export function decidePoolSize(
  sample: PoolSample,
  memory: AutoscaleMemory,
  bounds: AutoscaleBounds,
): AutoscaleDecision {
  checkBounds(bounds);
  const wanted = wantedPoolSize(sample, bounds);
  const recent = [
    ...memory.recent.filter((entry) => sample.at - entry.at < bounds.cooldownMs),
    { at: sample.at, wanted },
  ];
  const since = memory.since ?? sample.at;
  const next = { wanted, memory: { since, recent } };
  if (sample.size > bounds.max) return { size: bounds.max, ...next };
  if (sample.size < bounds.min || wanted > sample.size) return { size: wanted, ...next };
  const peak = Math.max(...recent.map((entry) => entry.wanted));
  // Only a whole cool-down of samples shows that the demand stayed low (not so just after start).
  const lowForWholeCooldown = peak < sample.size && sample.at - since >= bounds.cooldownMs;
  return { size: lowForWholeCooldown ? sample.size - 1 : sample.size, ...next };
}

function checkBounds(bounds: AutoscaleBounds): void {
  const { min, max, cooldownMs } = bounds;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < 1 || min > max) {
    throw new RangeError(
      `Cannot autoscale: bounds must be whole numbers with 0 <= min <= max and max >= 1, got min ${min}, max ${max}`,
    );
  }
  if (!(cooldownMs >= 0)) {
    throw new RangeError(`Cannot autoscale: cooldownMs must be >= 0, got ${cooldownMs}`);
  }
}
