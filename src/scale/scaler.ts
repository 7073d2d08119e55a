/**
 * The `dts scale` loop: every interval, read each task queue's backlog,
 * decide the worker count (`desiredWorkers`) and make each task's
 * `WorkerPool` match it.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { type CrashBackoff, DEFAULT_CRASH_BACKOFF } from "./crash_backoff.ts";
import { desiredWorkers } from "./desired_workers.ts";
import type { ProcessLauncher } from "./process_launcher.ts";
import { SlotAllocator } from "./slot_allocator.ts";
import { type ScaledTask, WorkerPool } from "./worker_pool.ts";

export type { ScaledTask } from "./worker_pool.ts";

/** Options of a `Scaler`. */
export interface ScalerOptions {
  /** The tasks to scale (from the config's `scaling` section). */
  tasks: readonly ScaledTask[];
  /** Where queue depths come from. */
  transport: Pick<Transport, "inspectQueue">;
  /** Starts the worker processes. */
  launcher: ProcessLauncher;
  logger: Logger;
  /** For worker names, `worker-<key>-<n>@<hostname>`. */
  hostname: string;
  /** @default systemClock */
  clock?: Clock;
  /** Time between two looks at the queues. @default 2000 */
  intervalMs?: number;
  /** How long the backlog must stay low before each step down. @default 30000 */
  cooldownMs?: number;
  /** After SIGTERM, wait this long before SIGKILL. @default 35000 (drain 30 s + 5 s grace) */
  stopTimeoutMs?: number;
  /** First health port; each child takes the lowest free one from here. 0: children serve none. @default 0 */
  healthPortBase?: number;
  /** Restart wait for crashing children. @default 1 s doubling to 30 s */
  crashBackoff?: CrashBackoff;
  /** A child that ran this long before crashing starts a new crash streak. @default 10000 */
  stableAfterMs?: number;
  /** Called with each change of a task's worker count (also logged). */
  onDecision?: (decision: ScaleChange) => void;
}

/** A change of one task's worker count. */
export interface ScaleChange {
  key: string;
  task: string;
  queue: string;
  from: number;
  to: number;
  backlog: number;
}

/** One task's workers right now. */
export interface TaskWorkers {
  key: string;
  task: string;
  desired: number;
  running: number;
  stopping: number;
  pids: number[];
}

/** Keeps each task's worker processes between min and max, by backlog. `start()`, then `stop()`. */
export class Scaler {
  readonly #options: ScalerOptions;
  readonly #clock: Clock;
  readonly #pools: WorkerPool[];
  readonly #stopping = new AbortController();
  #loop: Promise<void> | null = null;
  #wake: AbortController | null = null;
  #wakeRequested = false;

  constructor(options: ScalerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const base = options.healthPortBase ?? 0;
    const ports = base > 0 ? new SlotAllocator(base) : null;
    this.#pools = options.tasks.map((task) =>
      new WorkerPool({
        task,
        launcher: options.launcher,
        logger: options.logger,
        clock: this.#clock,
        hostname: options.hostname,
        ports,
        stopTimeoutMs: options.stopTimeoutMs ?? 35_000,
        backoff: options.crashBackoff ?? DEFAULT_CRASH_BACKOFF,
        stableAfterMs: options.stableAfterMs ?? 10_000,
        onCrash: () => this.#requestWake(),
      })
    );
  }

  /** Begin the loop: look at the queues now, then every interval. */
  start(): void {
    if (this.#loop !== null || this.#stopping.signal.aborted) return;
    const { logger } = this.#options;
    logger.info("Scaler started", {
      tasks: this.#pools.map(({ task }) => ({
        key: task.key,
        task: task.name,
        queue: task.queue,
        min: task.min,
        max: task.max,
        backlog_per_worker: task.backlogPerWorker,
      })),
      interval_ms: this.#intervalMs(),
      cooldown_ms: this.#cooldownMs(),
    });
    this.#loop = this.#run().catch((error) => {
      logger.error("Scaler loop failed", { error });
    });
  }

  /** One pass: read every queue, decide, start and stop processes. The loop calls this each interval. */
  async reconcile(): Promise<void> {
    await Promise.all(this.#pools.map((pool) => this.#reconcilePool(pool)));
  }

  /** Each task's workers right now. */
  snapshot(): TaskWorkers[] {
    return this.#pools.map((pool) => ({
      key: pool.task.key,
      task: pool.task.name,
      desired: pool.desired,
      running: pool.running,
      stopping: pool.stopping,
      pids: pool.pids,
    }));
  }

  /** End the loop, stop every worker process gracefully and wait until all have ended. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    await Promise.all(this.#pools.map((pool) => pool.stopAll("shutdown")));
  }

  async #run(): Promise<void> {
    const stop = this.#stopping.signal;
    while (!stop.aborted) {
      this.#wakeRequested = false;
      await this.reconcile();
      if (stop.aborted || this.#wakeRequested) continue;
      const wake = new AbortController();
      this.#wake = wake;
      try {
        await this.#clock.sleep(this.#nextDelayMs(), AbortSignal.any([stop, wake.signal]));
      } catch {
        // Woken early: a child crashed, or stop().
      } finally {
        this.#wake = null;
      }
    }
  }

  async #reconcilePool(pool: WorkerPool): Promise<void> {
    const { task } = pool;
    const { logger, transport } = this.#options;
    let backlog: number;
    try {
      backlog = (await transport.inspectQueue(task.queue))?.messages ?? 0;
      if (pool.inspectFailing) logger.info("Reading queue depth again", { queue: task.queue });
      pool.inspectFailing = false;
    } catch (error) {
      if (!pool.inspectFailing) {
        logger.warn("Cannot read queue depth; keeping the worker count", {
          task: task.name,
          queue: task.queue,
          error,
        });
      }
      pool.inspectFailing = true;
      // Still keep the minimum and replace crashed workers.
      pool.desired = Math.min(task.max, Math.max(task.min, pool.desired));
      if (!this.#stopping.signal.aborted) pool.reconcile();
      return;
    }
    if (this.#stopping.signal.aborted) return;
    const from = pool.desired;
    const decision = desiredWorkers(
      {
        backlog,
        current: from,
        min: task.min,
        max: task.max,
        backlogPerWorker: task.backlogPerWorker,
      },
      { now: this.#clock.now(), cooldownMs: this.#cooldownMs(), lowSince: pool.lowSince },
    );
    pool.lowSince = decision.lowSince;
    pool.desired = decision.workers;
    if (decision.workers !== from) {
      const change = {
        key: task.key,
        task: task.name,
        queue: task.queue,
        from,
        to: decision.workers,
        backlog,
      };
      logger.info(
        `scaled ${task.name} from ${from} to ${decision.workers} workers: backlog ${backlog}`,
        {
          task: task.name,
          queue: task.queue,
          from,
          to: decision.workers,
          backlog,
        },
      );
      this.#options.onDecision?.(change);
    }
    pool.reconcile();
  }

  #nextDelayMs(): number {
    const now = this.#clock.now();
    let delay = this.#intervalMs();
    for (const pool of this.#pools) {
      const at = pool.restartAt;
      if (at !== null && at > now) delay = Math.min(delay, at - now);
    }
    return delay;
  }

  #requestWake(): void {
    this.#wakeRequested = true;
    this.#wake?.abort();
  }

  #intervalMs(): number {
    return this.#options.intervalMs ?? 2_000;
  }

  #cooldownMs(): number {
    return this.#options.cooldownMs ?? 30_000;
  }
}
