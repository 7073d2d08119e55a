/**
 * The loop behind `dts worker --autoscale MAX,MIN`: every tick it samples
 * the pool and the worker's queues, asks `decidePoolSize()` and resizes the
 * pool (whose consumers follow with their prefetch). Celery's autoscaler in
 * one process: it moves slots of this worker, where `dts scale` starts and
 * stops worker processes.
 * @module
 */
import type { Clock } from "../clock.ts";
import { toErrorInfo } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import {
  type AutoscaleBounds,
  type AutoscaleMemory,
  decidePoolSize,
  NO_MEMORY,
} from "./autoscale_decision.ts";
import type { PoolSize } from "./pool_size.ts";

/** Ticks of `dts worker --autoscale`: about as often as Celery's autoscaler looks. */
export const AUTOSCALE_INTERVAL_MS = 1000;

/** Cool-down before a shrink: Celery's autoscaler keepalive, and `dts scale`'s default. */
export const AUTOSCALE_COOLDOWN_MS = 30_000;

/** What the loop needs. */
export interface AutoscalerOptions {
  pool: PoolSize;
  bounds: AutoscaleBounds;
  /** Time between two samples. @default AUTOSCALE_INTERVAL_MS */
  intervalMs?: number;
  /** Ready messages in the worker's queues, summed (a passive declare per queue on AMQP). */
  readyMessages(): Promise<number>;
  /** Ends the loop; a sample in progress is dropped. */
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
  /** Called after every resize. */
  onResize?(size: number): void;
}

/** What the autoscaler knows now, for remote-control `stats` (Celery's `autoscaler` fields). */
export interface AutoscalerState {
  min: number;
  max: number;
  /** The pool size. */
  current: number;
  /** Messages this worker holds: running and waiting for a slot (Celery's reserved requests). */
  qty: number;
}

/** Resize the pool by its backlog until the signal aborts; never rejects. */
export async function runAutoscaler(options: AutoscalerOptions): Promise<void> {
  const { signal, clock } = options;
  let memory = NO_MEMORY;
  while (!signal.aborted) {
    memory = await tick(options, memory);
    await clock.sleep(options.intervalMs ?? AUTOSCALE_INTERVAL_MS, signal).catch(() => {});
  }
}

/** One sample and, when it asks for it, one resize; the memory for the next. */
async function tick(options: AutoscalerOptions, memory: AutoscaleMemory): Promise<AutoscaleMemory> {
  const { pool, logger } = options;
  let ready: number;
  try {
    ready = await untilAborted(options.readyMessages(), options.signal);
  } catch (error) {
    // Disconnected or stopping: no sample is better than a wrong one; the pool stays as it is.
    if (!options.signal.aborted) {
      logger.debug("Autoscaler cannot read the queues; the pool stays as it is", {
        error: toErrorInfo(error).message,
      });
    }
    return memory;
  }
  const from = pool.size;
  const sample = {
    at: options.clock.now(),
    size: from,
    running: pool.running,
    waiting: pool.waiting,
    ready,
  };
  const decision = decidePoolSize(sample, memory, options.bounds);
  if (decision.size !== from && !options.signal.aborted) {
    pool.resize(decision.size);
    options.onResize?.(decision.size);
    logger.info(decision.size > from ? "Pool grew" : "Pool shrank", {
      from,
      to: decision.size,
      backlog: ready,
      running: sample.running,
      waiting: sample.waiting,
      min: options.bounds.min,
      max: options.bounds.max,
    });
  }
  return decision.memory;
}

/** `work`, or a rejection with the signal's reason once it aborts (the work goes on unobserved). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
