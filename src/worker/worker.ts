/**
 * A worker: consumes the queues of its tasks, runs at most `concurrency`
 * attempts at once (or, with `autoscale`, as many as the backlog asks for
 * within its bounds), answers remote control, and drains on stop.
 * @module
 */
import type { AttemptRunner } from "../attempt/attempt_runner.ts";
import { inlineRunner } from "../attempt/inline_runner.ts";
import type { Logger } from "../log/logger.ts";
import type { TaskDefinition } from "../plugin/task_plugin.ts";
import { exponentialBackoff } from "../retry/retry_policy.ts";
import type { Transport, TransportStatus } from "../transport/transport.ts";
import { type Clock, systemClock } from "../clock.ts";
import { consumeQueue } from "./consume_queue.ts";
import type { DeliveryDeps, RunnableTask } from "./delivery_deps.ts";
import { handleDelivery } from "./handle_delivery.ts";
import { HeldMessages } from "./held_messages.ts";
import { type ActiveTask, InFlightTasks, messageKey } from "./in_flight.ts";
import { WorkerMetrics } from "./metrics.ts";
import { FleetRevocations, type RevokeCommand } from "./fleet_revocations.ts";
import { backoffDelayMs } from "../retry/backoff.ts";
import { serveRemoteControl } from "./remote_control.ts";
import type { AutoscaleBounds } from "./autoscale_decision.ts";
import { type AutoscalerState, runAutoscaler } from "./autoscaler.ts";
import { type AutoscaleOptions, choosePool } from "./pool_options.ts";
import { PoolSize } from "./pool_size.ts";
import { TaskLimits, type TaskLimitSettings } from "../limits/task_limits.ts";
import { type EmitterStats, EventEmitter } from "../events/event_emitter.ts";
import { celeryTaskEvents } from "../events/task_events.ts";
import { type Heartbeat, startHeartbeat } from "../events/worker_heartbeat.ts";
import { runtimeTaskTracer, type TaskTracer } from "../tracing/task_tracer.ts";

/**
 * How long a worker's task events wait to go out together (`task.multi`):
 * under load one message carries many, at an idle worker an event waits
 * this long at most.
 */
const TASK_EVENT_BATCH_MS = 10;

export type { AutoscaleOptions } from "./pool_options.ts";

/** How to run a worker. */
export interface WorkerOptions {
  transport: Transport;
  tasks: readonly TaskDefinition[];
  /** e.g. `worker-a@host`. */
  name: string;
  /** Attempts in flight at once; not with `autoscale`. @default 1 */
  concurrency?: number;
  /**
   * Follow the backlog instead: start with `min` slots, grow up to `max`
   * at once when messages wait, shrink one slot per tick after `cooldownMs`
   * of lower demand (see `autoscale_decision.ts`). Not with `concurrency`.
   */
  autoscale?: AutoscaleOptions | null;
  /** Unacknowledged messages each queue's consumer may hold. @default the pool size, following it */
  prefetch?: number | null;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Larger task messages are dead-lettered. @default 1 MiB */
  maxMessageBytes?: number;
  queueType?: "classic" | "quorum";
  deliveryLimit?: number | null;
  /** A message back this many times after a worker died holding it is dead-lettered as poison; 0 never. @default 3 */
  maxRedeliveries?: number;
  /** Timers and timestamps. @default systemClock */
  clock?: Clock;
  /** Shown by remote-control `stats`. */
  version?: string;
  /** Runs the plugins. @default inline, on the worker's own thread */
  runner?: AttemptRunner;
  /** Send Celery's task and worker events on `celeryev` (`celery -E`). @default false */
  events?: boolean;
  /** Milliseconds between `worker-heartbeat` events. @default 2000 */
  heartbeatMs?: number;
  /** A span per attempt. @default the OpenTelemetry API's global tracer, or none */
  tracer?: TaskTracer;
}

/** A running worker's lifecycle: `start()`, then `stop()`. */
export class Worker {
  readonly name: string;
  readonly metrics: WorkerMetrics;
  readonly #options: WorkerOptions;
  readonly #consuming = new AbortController();
  readonly #stopping = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #active = new InFlightTasks();
  #revocations: FleetRevocations | null = null;
  #limits: TaskLimits | null = null;
  /** Queues whose consumer is down, and why. */
  readonly #notConsuming = new Map<string, string>();
  readonly #loops: Promise<void>[] = [];
  readonly #runner: AttemptRunner;
  readonly #clock: Clock;
  readonly #autoscale: AutoscaleBounds | null;
  readonly #pool: PoolSize;
  #unsubscribe: (() => void) | null = null;
  #events: EventEmitter | null = null;
  #heartbeat: Heartbeat | null = null;
  #state: "new" | "running" | "draining" | "stopped" = "new";
  #startedAt = 0;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.name = options.name;
    this.metrics = options.metrics ?? new WorkerMetrics();
    this.#runner = options.runner ?? inlineRunner();
    this.#clock = options.clock ?? systemClock;
    const pool = choosePool(options);
    this.#autoscale = pool.autoscale;
    this.#pool = new PoolSize(pool.size);
  }

  /** Declare the queues and start consuming. */
  async start(): Promise<void> {
    const { transport, tasks, logger } = this.#options;
    this.#startedAt = this.#clock.now();
    this.metrics.setBrokerConnected(transport.connected);
    this.#unsubscribe = transport.onStatus((status) => this.#onStatus(status));

    const byName = new Map<string, RunnableTask>();
    const byQueue = new Map<string, TaskDefinition[]>();
    for (const task of tasks) {
      byName.set(task.name, { task, policy: exponentialBackoff(task.retry) });
      byQueue.set(task.queue, [...(byQueue.get(task.queue) ?? []), task]);
    }
    const queues = [...byQueue.keys()];
    const queueOptions = {
      type: this.#options.queueType,
      deliveryLimit: this.#options.deliveryLimit ?? undefined,
    };
    // A priority queue when a task on it says so (tasks.<key>.max_priority).
    const maxPriority = new Map<string, number>();
    for (const task of tasks) {
      if (task.maxPriority === undefined) continue;
      maxPriority.set(task.queue, Math.max(maxPriority.get(task.queue) ?? 0, task.maxPriority));
    }
    const queueOptionsFor = (queue: string) => {
      const max = maxPriority.get(queue);
      return max === undefined ? queueOptions : { ...queueOptions, maxPriority: max };
    };
    for (const queue of queues) await transport.assertTaskQueue(queue, queueOptionsFor(queue));
    // Before any task: what the fleet revoked while this worker was not running.
    const revocations = new FleetRevocations({
      transport,
      active: this.#active,
      logger,
      clock: this.#clock,
    });
    this.#revocations = revocations;
    this.metrics.countRevokedWith(() => revocations.counts().known);
    this.metrics.countEventsWith(() => this.eventStats());
    const following = await revocations.follow(this.#consuming.signal);
    this.#loops.push(following.done);
    // Fleet-wide limits: their queues exist, and this worker stands for leader, before any task.
    const limits = new TaskLimits({
      transport,
      tasks: new Map<string, TaskLimitSettings>(tasks.map((task) => [task.name, task])),
      logger,
      clock: this.#clock,
    });
    this.#limits = limits;
    await limits.start(this.#consuming.signal);
    this.metrics.describeLimitsWith(() => limits.describe());
    const taskEvents = this.#options.events ? await this.#startEvents() : undefined;

    const deps: DeliveryDeps = {
      transport,
      tasks: byName,
      queues: new Set(queues),
      queueOptions: queueOptionsFor,
      workerName: this.name,
      logger,
      metrics: this.metrics,
      maxMessageBytes: this.#options.maxMessageBytes ?? 1024 * 1024,
      maxRedeliveries: this.#options.maxRedeliveries ?? 3,
      stopSignal: this.#stopping.signal,
      intakeSignal: this.#consuming.signal,
      limits,
      runner: this.#runner,
      inFlight: this.#active,
      revoked: revocations,
      held: new HeldMessages(),
      events: taskEvents,
      clock: this.#clock,
      tracer: this.#options.tracer ?? runtimeTaskTracer(this.#options.version),
      now: () => this.#clock.now(),
    };
    this.metrics.setConcurrency(this.#pool.size);
    for (const queue of queues) this.#loops.push(this.#consume(queue, deps));
    this.#loops.push(this.#serveControl(queues));
    if (this.#autoscale !== null) this.#loops.push(this.#runAutoscaler(queues));
    this.#state = "running";
    if (this.#events !== null && taskEvents !== undefined) {
      this.#heartbeat = startHeartbeat(this.#events, {
        active: () => this.#active.list().length,
        processed: taskEvents.processed,
      }, {
        intervalMs: this.#options.heartbeatMs,
        version: this.#options.version ?? "",
        clock: this.#clock,
      });
    }
    logger.info("Worker started", {
      worker: this.name,
      queues,
      tasks: tasks.map((t) => t.name),
      concurrency: this.#pool.size,
      ...(this.#autoscale === null ? {} : {
        autoscale: { min: this.#autoscale.min, max: this.#autoscale.max },
        cooldown_ms: this.#autoscale.cooldownMs,
      }),
    });
  }

  /** The emitter of this worker's events, its exchange declared. */
  async #startEvents(): Promise<ReturnType<typeof celeryTaskEvents>> {
    const emitter = new EventEmitter({
      transport: this.#options.transport,
      hostname: this.name,
      clock: this.#clock,
      batchMs: TASK_EVENT_BATCH_MS,
    });
    await emitter.prepare();
    this.#events = emitter;
    return celeryTaskEvents(emitter);
  }

  /** What became of the events sent, or null with events off. */
  eventStats(): Readonly<EmitterStats> | null {
    return this.#events?.stats ?? null;
  }

  /** One consume loop; runs until the worker stops consuming. */
  #consume(queue: string, deps: DeliveryDeps): Promise<void> {
    return consumeQueue({
      transport: deps.transport,
      queue,
      queueOptions: deps.queueOptions(queue),
      prefetch: this.#options.prefetch ?? null,
      signal: this.#consuming.signal,
      pool: this.#pool,
      handle: (delivery, turn) => handleDelivery(delivery, deps, turn),
      onReturned: (delivery) => {
        const key = keyOfHeaders(delivery.props.headers);
        if (key !== null) deps.held.take(key);
      },
      onConsuming: (consuming, why) => {
        if (consuming) this.#notConsuming.delete(queue);
        else this.#notConsuming.set(queue, why ?? "stopped");
      },
      jobs: this.#inFlight,
      logger: deps.logger,
      clock: this.#clock,
    });
  }

  /** Follows the backlog of `queues` until the worker stops consuming. */
  #runAutoscaler(queues: string[]): Promise<void> {
    const { transport, logger } = this.#options;
    const bounds = this.#autoscale!;
    const prefetch = this.#options.prefetch ?? null;
    if (prefetch !== null && prefetch < bounds.max) {
      logger.warn("A fixed prefetch below the autoscale max keeps the pool from filling up", {
        prefetch,
        max: bounds.max,
        effect: `each queue hands this worker at most ${prefetch} messages at once`,
      });
    }
    return runAutoscaler({
      pool: this.#pool,
      bounds,
      intervalMs: this.#options.autoscale?.intervalMs,
      readyMessages: async () => {
        let ready = 0;
        for (const queue of queues) ready += (await transport.inspectQueue(queue))?.messages ?? 0;
        return ready;
      },
      signal: this.#consuming.signal,
      clock: this.#clock,
      logger,
      onResize: (size) => this.metrics.setConcurrency(size),
    });
  }

  /**
   * Answers remote control (inspect, revoke) until the worker stops
   * consuming. A setup cut short by a dropped connection, or a consumer the
   * broker cancelled, starts over: a worker deaf to revoke would run what
   * the fleet cancelled.
   */
  async #serveControl(queues: string[]): Promise<void> {
    const { transport, tasks, logger } = this.#options;
    const signal = this.#consuming.signal;
    const state = {
      workerName: this.name,
      tasks: () => tasks.map((t) => t.name),
      queues: () => queues,
      active: () => this.#describeActive(),
      reserved: () => this.#describeReserved(),
      stats: () => this.#stats(),
      revoke: (command: RevokeCommand) => this.#revocations?.command(command) ?? Promise.resolve(),
      revoked: () => this.#revocations?.ids() ?? [],
      heartbeat: () => this.#heartbeat?.beatNow(),
    };
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        await serveRemoteControl(transport, { state, logger, signal });
        return;
      } catch (error) {
        if (signal.aborted) return;
        logger.warn("Remote control stopped; starting it again", { error });
        await this.#clock.sleep(
          backoffDelayMs(failures, { baseMs: 200, factor: 2, maxMs: 5000 }),
          signal,
        ).catch(() => {});
      }
    }
  }

  /** Ready to take work: consuming every queue and connected (SPEC `/readyz`). */
  ready(): boolean {
    return this.#state === "running" && this.#options.transport.connected &&
      this.#notConsuming.size === 0;
  }

  /** Why `ready()` is false, for `/readyz`. */
  notReadyReason(): string {
    if (this.#state !== "running") return this.#state;
    if (!this.#options.transport.connected) return "broker disconnected";
    const [queue, why] = this.#notConsuming.entries().next().value ?? [];
    return queue === undefined ? "ready" : `not consuming "${queue}": ${why}`;
  }

  /** Each limited task's fleet-wide limits as this worker sees them (`stats`, `/metrics`). */
  limits(): ReturnType<TaskLimits["describe"]> {
    return this.#limits?.describe() ?? {};
  }

  /** The task ids this worker knows are revoked, oldest first (`inspect revoked`). */
  revokedIds(): string[] {
    return this.#revocations?.ids() ?? [];
  }

  /** How many attempts run right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** How many attempts may run at once now (moves with `autoscale`). */
  get concurrency(): number {
    return this.#pool.size;
  }

  /** The autoscaler's bounds and what it sees, or null for a fixed pool. */
  autoscaler(): AutoscalerState | null {
    if (this.#autoscale === null) return null;
    const { min, max } = this.#autoscale;
    const pool = this.#pool;
    return { min, max, current: pool.size, qty: pool.running + pool.waiting };
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
    const cancel = new AbortController();
    const drained = Promise.allSettled([...this.#inFlight]).then(() => "drained" as const);
    const timedOut = this.#clock.sleep(drainMs, cancel.signal).then(
      () => "timeout" as const,
      () => "drained" as const,
    );
    if (await Promise.race([drained, timedOut]) === "timeout") {
      logger.warn("Drain timeout; cutting the unfinished tasks short and putting them back", {
        in_flight: this.#inFlight.size,
      });
      this.#stopping.abort(new Error("worker stopped"));
      await Promise.allSettled([...this.#inFlight]);
    }
    cancel.abort();
    // Offline once nothing runs any more, while the connection is still up.
    await this.#heartbeat?.stop();
    const dropped = this.#events?.stats.dropped ?? 0;
    if (dropped > 0) logger.warn("Some events were not sent", { dropped });
    await this.#limits?.close();
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
    return this.#active.list().map((task) => this.#describeTask(task));
  }

  /** Received and waiting to start, in Celery's `inspect reserved` shape. */
  #describeReserved(): unknown[] {
    return this.#active.listReserved().map((task) => ({
      ...this.#describeTask(task),
      time_start: null,
      waiting_since: task.startedAt / 1000,
    }));
  }

  #describeTask(task: ActiveTask): Record<string, unknown> {
    return {
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
    };
  }

  #stats(): Record<string, unknown> {
    const autoscaler = this.autoscaler();
    return {
      pid: Deno.pid,
      uptime: Math.round((this.#clock.now() - this.#startedAt) / 1000),
      pool: { "max-concurrency": this.#pool.size, processes: [Deno.pid] },
      ...(autoscaler === null ? {} : { autoscaler }),
      broker: { transport: this.#options.transport.url.split(":")[0] }, // the scheme only, no URL
      dts: { version: this.#options.version ?? "", tasks: this.#options.tasks.map((t) => t.name) },
      revoked: this.#revocations?.counts() ?? { known: 0, refused: 0, terminated: 0 },
      ...(this.#limits?.any ? { limits: this.#limits.describe() } : {}),
    };
  }
}

/** The message key of a task message from its headers alone, or null when they do not say. */
function keyOfHeaders(headers: Record<string, unknown>): string | null {
  const id = headers.id;
  const retries = headers.retries ?? 0;
  if (typeof id !== "string" || typeof retries !== "number") return null;
  return messageKey(id, retries);
}
