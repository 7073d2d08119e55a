/**
 * How many worker processes a task should have, from its queue's backlog:
 * scale up at once, scale down one step per cool-down of low backlog.
 * @module
 */

/** What one scaling decision looks at. */
export interface ScaleInput {
  /** Ready messages in the task's queue. */
  backlog: number;
  /** Workers the task has now (the previous decision). */
  current: number;
  /** Fewest workers. */
  min: number;
  /** Most workers; >= min. */
  max: number;
  /** Ready messages one worker is expected to absorb; >= 1. */
  backlogPerWorker: number;
}

/** Time and memory for scale-down hysteresis. */
export interface Hysteresis {
  /** Epoch ms of this decision. */
  now: number;
  /** How long the backlog must stay low before one worker is stopped. */
  cooldownMs: number;
  /** Since when the backlog has wanted fewer workers without a step down (null: it has not). */
  lowSince: number | null;
}

/** A decision: the worker count, and the hysteresis memory for the next one. */
export interface ScaleDecision {
  workers: number;
  lowSince: number | null;
}

/**
 * The worker count the backlog alone asks for: `ceil(backlog / backlogPerWorker)`
 * clamped to `[min, max]`.
 * @throws {RangeError} when min > max or backlogPerWorker < 1
 */
export function targetWorkers(input: Omit<ScaleInput, "current">): number {
  const { backlog, min, max, backlogPerWorker } = input;
  if (min > max) throw new RangeError(`Cannot scale: min (${min}) is greater than max (${max})`);
  if (!(backlogPerWorker >= 1)) {
    throw new RangeError(`Cannot scale: backlogPerWorker must be >= 1, got ${backlogPerWorker}`);
  }
  const wanted = Math.ceil(Math.max(0, backlog) / backlogPerWorker);
  return Math.min(max, Math.max(min, wanted));
}

/**
 * The next worker count: up to the target at once; down by one worker only
 * after the target has stayed below the current count for `cooldownMs`
 * (then the cool-down starts again for the next step); never outside `[min, max]`
 * (a count above `max` comes down to `max` at once).
 */
export function desiredWorkers(input: ScaleInput, hysteresis: Hysteresis): ScaleDecision {
  const target = targetWorkers(input);
  const { current, max } = input;
  if (current > max) return { workers: max, lowSince: null };
  if (target >= current) return { workers: target, lowSince: null };
  const { now, cooldownMs } = hysteresis;
  const lowSince = hysteresis.lowSince ?? now;
  if (now - lowSince >= cooldownMs) return { workers: current - 1, lowSince: now };
  return { workers: current, lowSince };
}
