/**
 * The worker's pool: how many attempts may run at once, shared by every
 * queue it consumes. Fixed with `--concurrency`; moved at run time by the
 * autoscaler with `--autoscale`. Consumers follow it with their prefetch.
 * @module
 */
import { Semaphore } from "../semaphore.ts";

/** The slots of a worker and whoever follows their number. */
export class PoolSize {
  /** One slot per attempt that may run; shared by every queue. */
  readonly slots: Semaphore;
  readonly #listeners = new Set<(size: number) => void>();

  /** @throws {RangeError} when `size` is not a whole number >= 0 */
  constructor(size: number) {
    this.slots = new Semaphore(size);
  }

  /** Attempts allowed at once now. */
  get size(): number {
    return this.slots.size;
  }

  /** Deliveries holding a slot: running (or about to). */
  get running(): number {
    return this.slots.taken;
  }

  /** Deliveries the worker holds that wait for a slot. */
  get waiting(): number {
    return this.slots.waiting;
  }

  /**
   * Change the number of slots. A shrink never stops a running attempt: it
   * only keeps new ones from starting until the running ones are fewer.
   */
  resize(size: number): void {
    if (size === this.slots.size) return;
    this.slots.resize(size);
    for (const listener of this.#listeners) listener(size);
  }

  /** Call `listener` with every new size; returns the unsubscribe function. */
  onResize(listener: (size: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** One delivery's hold on a pool slot, which it may give up while it waits on something else. */
export interface PoolTurn {
  /**
   * Give the slot back while waiting on the fleet (a rate-limit token, a
   * concurrency slot), so the worker's other queues are not starved by it.
   */
  stepAside(): void;
  /** Take a slot again; rejects with the signal's reason when it aborts first. */
  comeBack(signal: AbortSignal): Promise<void>;
}

/** A turn that holds a slot of `slots` now; `end()` gives it back if it still holds it. */
export function holdTurn(slots: Semaphore): PoolTurn & { end(): void } {
  let holding = true;
  return {
    stepAside() {
      if (!holding) return;
      holding = false;
      slots.release();
    },
    async comeBack(signal) {
      if (holding) return;
      await slots.acquire(signal);
      holding = true;
    },
    end() {
      if (!holding) return;
      holding = false;
      slots.release();
    },
  };
}

/**
 * The prefetch of each queue's consumer for a pool of `size`: one message
 * per slot, so a worker never holds work that waits while another worker
 * is idle. At least 1: a prefetch of 0 means "unlimited" in AMQP, and a
 * pool of 0 slots still takes one message to notice that there is work.
 */
export function prefetchForPool(size: number): number {
  return Math.max(1, size);
}

/**
 * Plugin hosts (threads) per plugin for a pool of at most `poolMax` slots:
 * `configured` (`worker.plugin_hosts`) when given, else one per CPU core,
 * at least 2 so that one plugin blocking its thread never holds up every
 * attempt. Never more than the pool: a host per slot is full isolation.
 * Each host costs a V8 isolate (about 10 MB and a start-up); one per slot
 * at `--concurrency 100` cost 1 GB and most of a worker's CPU.
 */
export function pluginHostsForPool(
  poolMax: number,
  configured: number | null,
  cores = navigator.hardwareConcurrency,
): number {
  return Math.max(1, Math.min(poolMax, configured ?? Math.max(2, cores)));
}
