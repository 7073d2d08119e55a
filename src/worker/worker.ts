/**
 * A worker: consumes the queues of its tasks, runs at most `concurrency`
 * attempts at once, answers remote control, and drains on stop.
 * @module
 */
import type { AttemptRunner } from "../attempt/attempt_runner.ts";
import { inlineRunner } from "../attempt/inline_runner.ts";
import type { Logger } from "../log/logger.ts";
import type { TaskDefinition } from "../plugin/task_plugin.ts";
import { exponentialBackoff, type RetryPolicy } from "../retry/retry_policy.ts";
import type { Transport, TransportStatus } from "../transport/transport.ts";
import { type ActiveTask, handleDelivery } from "./handle_delivery.ts";
import { WorkerMetrics } from "./metrics.ts";
import { serveRemoteControl } from "./remote_control.ts";
import { Semaphore } from "./semaphore.ts";

/** How to run a worker. */
export interface WorkerOptions {
  transport: Transport;
  tasks: readonly TaskDefinition[];
  /** e.g. `worker-a@host`. */
  name: string;
  /** Attempts in flight at once. @default 1 */
  concurrency?: number;
  /** Unacknowledged messages each queue's consumer may hold. @default concurrency */
  prefetch?: number | null;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Larger task messages are dead-lettered. @default 1 MiB */
  maxMessageBytes?: number;
  queueType?: "classic" | "quorum";
  deliveryLimit?: number | null;
  now?: () => number;
  /** Shown by remote-control `stats`. */
  version?: string;
  /** Runs the plugins. @default inline, on the worker's own thread */
  runner?: AttemptRunner;
}

/** A running worker's lifecycle: `start()`, then `stop()`. */
export class Worker {
  readonly name: string;
  readonly metrics: WorkerMetrics;
  readonly #options: WorkerOptions;
  readonly #consuming = new AbortController();
  readonly #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #active = new Map<string, ActiveTask>();
  readonly #loops: Promise<void>[] = [];
  readonly #runner: AttemptRunner;
  #unsubscribe: (() => void) | null = null;
  #state: "new" | "running" | "draining" | "stopped" = "new";
  #startedAt = 0;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.name = options.name;
    this.metrics = options.metrics ?? new WorkerMetrics();
    this.#runner = options.runner ?? inlineRunner();
  }

  /** Declare the queues and start consuming. */
  async start(): Promise<void> {
    const { transport, tasks, logger } = this.#options;
    const now = this.#options.now ?? Date.now;
    const concurrency = this.#options.concurrency ?? 1;
    this.#startedAt = now();
    this.metrics.setBrokerConnected(transport.connected);
    this.#unsubscribe = transport.onStatus((status) => this.#onStatus(status));

    const byName = new Map<string, { task: TaskDefinition; policy: RetryPolicy }>();
    const byQueue = new Map<string, TaskDefinition[]>();
    for (const task of tasks) {
      byName.set(task.name, { task, policy: exponentialBackoff(task.retry) });
      byQueue.set(task.queue, [...(byQueue.get(task.queue) ?? []), task]);
    }
    for (const queue of byQueue.keys()) {
      await transport.assertTaskQueue(queue, {
        type: this.#options.queueType,
        deliveryLimit: this.#options.deliveryLimit ?? undefined,
      });
    }

    const slots = new Semaphore(concurrency);
    const deps = {
      transport,
      tasks: byName,
      workerName: this.name,
      logger,
      metrics: this.metrics,
      maxMessageBytes: this.#options.maxMessageBytes ?? 1024 * 1024,
      stopSignal: this.#stopping.signal,
      active: this.#active,
      runner: this.#runner,
      now,
    };
    for (const queue of byQueue.keys()) {
      const deliveries = transport.consume(queue, {
        prefetch: this.#options.prefetch ?? concurrency,
        signal: this.#consuming.signal,
      });
      this.#loops.push((async () => {
        for await (const delivery of deliveries) {
          await slots.acquire();
          if (this.#consuming.signal.aborted) {
            // Stopping: a prefetched message that never started goes straight back.
            slots.release();
            await delivery.requeue().catch(() => {});
            continue;
          }
          const job = handleDelivery(delivery, deps).finally(() => {
            slots.release();
            this.#inFlight.delete(job);
          });
          this.#inFlight.add(job);
        }
      })());
    }
    this.#loops.push(
      serveRemoteControl(transport, {
        state: {
          workerName: this.name,
          tasks: () => tasks.map((t) => t.name),
          queues: () => [...byQueue.keys()],
          active: () => this.#describeActive(),
          stats: () => this.#stats(now),
        },
        logger,
        signal: this.#consuming.signal,
      }).catch((error) => logger.warn("Remote control stopped", { error })),
    );
    this.#state = "running";
    logger.info("Worker started", {
      worker: this.name,
      queues: [...byQueue.keys()],
      tasks: tasks.map((t) => t.name),
      concurrency,
    });
  }

  /** Ready to take work: consuming and connected (SPEC `/readyz`). */
  ready(): boolean {
    return this.#state === "running" && this.#options.transport.connected;
  }

  /** Why `ready()` is false, for `/readyz`. */
  notReadyReason(): string {
    if (this.#state !== "running") return this.#state;
    return this.#options.transport.connected ? "ready" : "broker disconnected";
  }

  /** How many attempts run right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Stop consuming, let running attempts finish for up to `drainTimeoutMs`,
   * then cut the rest short (their messages go back to the queue).
   */
  async stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.#state === "stopped" || this.#state === "draining") return;
    const { logger } = this.#options;
    this.#state = "draining";
    this.#consuming.abort();
    const drainMs = options.drainTimeoutMs ?? 30_000;
    if (this.#inFlight.size > 0) {
      logger.info("Draining in-flight tasks", {
        in_flight: this.#inFlight.size,
        drain_ms: drainMs,
      });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = Promise.allSettled([...this.#inFlight]);
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), drainMs);
    });
    if (await Promise.race([drained, timedOut]) === "timeout") {
      logger.warn("Drain timeout; requeueing unfinished tasks", { in_flight: this.#inFlight.size });
      this.#stopping.abort(new Error("worker stopped"));
      await Promise.allSettled([...this.#inFlight]);
    }
    clearTimeout(timer);
    await Promise.allSettled(this.#loops);
    await this.#runner.close();
    this.#unsubscribe?.();
    this.#state = "stopped";
    logger.info("Worker stopped", { worker: this.name });
  }

  // The transport logs the drop and the restore itself; logged here too they showed twice.
  #onStatus(status: TransportStatus): void {
    const { logger } = this.#options;
    if (status.type === "connected") {
      // Subscribed after the first connect: every "connected" is a successful reconnect.
      this.metrics.setBrokerConnected(true);
      this.metrics.reconnected();
    } else if (status.type === "disconnected") {
      this.metrics.setBrokerConnected(false);
    } else if (status.type === "reconnecting") {
      logger.info("Reconnecting to broker", { attempt: status.attempt, delay_ms: status.delayMs });
    } else {
      this.metrics.setBrokerConnected(false);
    }
  }

  #describeActive(): unknown[] {
    return [...this.#active.values()].map((task) => ({
      id: task.id,
      name: task.name,
      args: task.args,
      kwargs: task.kwargs,
      type: task.name,
      hostname: this.name,
      time_start: task.startedAt / 1000,
      acknowledged: false,
      delivery_info: { exchange: "", routing_key: task.queue, redelivered: false },
      worker_pid: Deno.pid,
    }));
  }

  #stats(now: () => number): Record<string, unknown> {
    return {
      pid: Deno.pid,
      uptime: Math.round((now() - this.#startedAt) / 1000),
      pool: { "max-concurrency": this.#options.concurrency ?? 1, processes: [Deno.pid] },
      broker: { transport: this.#options.transport.url.split(":")[0] }, // the scheme only, no URL
      dts: { version: this.#options.version ?? "", tasks: this.#options.tasks.map((t) => t.name) },
    };
  }
}
