/**
 * The worker processes of one task: starts and stops them to match the
 * scaler's decision, replaces crashed ones with backoff, and stops them
 * gracefully (SIGTERM, then SIGKILL only after the stop timeout).
 * @module
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import { type CrashBackoff, restartDelayMs } from "./crash_backoff.ts";
import type { ProcessExit, ProcessLauncher, WorkerProcess } from "./process_launcher.ts";
import { SlotAllocator } from "./slot_allocator.ts";

/** One task under `dts scale`, resolved from `scaling.<key>`. */
export interface ScaledTask {
  /** Scaling key (`a`), passed to `dts worker --task`. */
  key: string;
  /** Task name (`task_a`), used in logs. */
  name: string;
  /** The queue whose backlog drives the count. */
  queue: string;
  min: number;
  max: number;
  backlogPerWorker: number;
}

/** Options of a `WorkerPool`. */
export interface WorkerPoolOptions {
  task: ScaledTask;
  launcher: ProcessLauncher;
  logger: Logger;
  clock: Clock;
  hostname: string;
  /** Health ports shared by every pool; null gives each child port 0 (off). */
  ports: SlotAllocator | null;
  /** After SIGTERM, wait this long before SIGKILL (the worker's drain timeout plus grace). */
  stopTimeoutMs: number;
  backoff: CrashBackoff;
  /** A child that ran at least this long before crashing starts a new crash streak. */
  stableAfterMs: number;
  /** Called when a child ends by itself, so the scaler can act before its next interval. */
  onCrash: () => void;
}

interface Child {
  readonly name: string;
  readonly number: number;
  readonly port: number | null;
  readonly process: WorkerProcess;
  readonly startedAt: number;
  /** Settles once the child has ended and been accounted for. */
  done: Promise<void>;
  stopping: boolean;
  readonly cancelKill: AbortController;
}

/** The worker processes of one task. */
export class WorkerPool {
  readonly task: ScaledTask;
  /** The worker count the scaler decided on (0 before the first decision). */
  desired = 0;
  /** Scale-down hysteresis memory (see `desiredWorkers`). */
  lowSince: number | null = null;
  /** True while reading the queue depth fails; to log the failure once. */
  inspectFailing = false;
  readonly #options: WorkerPoolOptions;
  readonly #numbers = new SlotAllocator(1);
  #children: Child[] = [];
  #crashes = 0;
  #restartAt: number | null = null;
  #closing = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    this.task = options.task;
  }

  /** Children running and not asked to stop. */
  get running(): number {
    return this.#children.filter((c) => !c.stopping).length;
  }

  /** Children asked to stop that have not ended yet. */
  get stopping(): number {
    return this.#children.filter((c) => c.stopping).length;
  }

  /** Process ids of every child still alive (null entries for fakes are left out). */
  get pids(): number[] {
    return this.#children.flatMap((c) => (c.process.pid === null ? [] : [c.process.pid]));
  }

  /** Epoch ms before which a crashed child is not replaced, or null. */
  get restartAt(): number | null {
    return this.#restartAt;
  }

  /** Start or stop children until `running` equals `desired` (starts wait for the crash backoff). */
  reconcile(): void {
    if (this.#closing) return;
    const live = this.#children.filter((c) => !c.stopping);
    // Newest first: it has had the least time to pick up work.
    while (live.length > this.desired) this.#stop(live.pop() as Child, "scale down");
    if (live.length >= this.desired) return;
    const now = this.#options.clock.now();
    if (this.#restartAt !== null && now < this.#restartAt) return;
    this.#restartAt = null;
    for (let n = live.length; n < this.desired; n++) {
      if (!this.#start()) break;
    }
  }

  /** Stop every child gracefully and wait until all have ended; no child starts afterwards. */
  async stopAll(reason: string): Promise<void> {
    this.#closing = true;
    this.desired = 0;
    for (const child of this.#children) if (!child.stopping) this.#stop(child, reason);
    await Promise.all(this.#children.map((c) => c.done));
  }

  #start(): boolean {
    const { task, launcher, logger, clock, hostname, ports } = this.#options;
    const number = this.#numbers.acquire();
    const port = ports?.acquire() ?? null;
    const name = `worker-${task.key}-${number}@${hostname}`;
    let process: WorkerProcess;
    try {
      process = launcher.launch({ key: task.key, name, healthPort: port ?? 0 });
    } catch (error) {
      this.#numbers.release(number);
      if (port !== null) ports?.release(port);
      const delayMs = this.#crashed(clock.now());
      logger.error(`Cannot start worker process "${name}": ${errorText(error)}`, {
        task: task.name,
        worker: name,
        restart_in_ms: delayMs,
      });
      return false;
    }
    const child: Child = {
      name,
      number,
      port,
      process,
      startedAt: clock.now(),
      done: Promise.resolve(),
      stopping: false,
      cancelKill: new AbortController(),
    };
    child.done = process.exited.then((exit) => this.#ended(child, exit));
    this.#children.push(child);
    // A null pid is no real process: `--dry-run`.
    logger.info(process.pid === null ? "Would start worker process" : "Started worker process", {
      task: task.name,
      worker: name,
      pid: process.pid,
      ...(port === null ? {} : { health_port: port }),
    });
    return true;
  }

  #stop(child: Child, reason: string): void {
    const { logger, clock, stopTimeoutMs, task } = this.#options;
    child.stopping = true;
    logger.info("Stopping worker process", {
      task: task.name,
      worker: child.name,
      pid: child.process.pid,
      reason,
    });
    // SIGTERM lets the worker drain: it finishes running tasks and requeues prefetched ones.
    child.process.kill("SIGTERM");
    clock.sleep(stopTimeoutMs, child.cancelKill.signal).then(() => {
      logger.warn("Worker process did not stop in time; killing it", {
        task: task.name,
        worker: child.name,
        pid: child.process.pid,
        waited_ms: stopTimeoutMs,
      });
      child.process.kill("SIGKILL");
    }, () => {/* it ended in time */});
  }

  #ended(child: Child, exit: ProcessExit): void {
    const { logger, clock, ports, task } = this.#options;
    child.cancelKill.abort();
    this.#children = this.#children.filter((c) => c !== child);
    this.#numbers.release(child.number);
    if (child.port !== null) ports?.release(child.port);
    const fields = {
      task: task.name,
      worker: child.name,
      pid: child.process.pid,
      code: exit.code,
      signal: exit.signal,
    };
    if (child.stopping) {
      logger.info("Worker process exited", fields);
      return;
    }
    if (this.#closing) {
      logger.warn("Worker process exited during shutdown", fields);
      return;
    }
    const now = clock.now();
    if (now - child.startedAt >= this.#options.stableAfterMs) this.#crashes = 0;
    const delayMs = this.#crashed(now);
    logger.warn("Worker process exited unexpectedly; replacing it", {
      ...fields,
      restart_in_ms: delayMs,
    });
    this.#options.onCrash();
  }

  /** Count a crash and set when the replacement may start; returns the wait. */
  #crashed(now: number): number {
    this.#crashes++;
    const delayMs = restartDelayMs(this.#crashes, this.#options.backoff);
    this.#restartAt = now + delayMs;
    return delayMs;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
