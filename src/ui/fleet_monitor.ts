/**
 * The dashboard's data layer: the one event subscription and the one poll
 * of the broker (queue depths, dead letters, remote-control `stats`) that
 * every page shares. Events go into the store; what changed goes to the
 * pages in batches (four a second at most), so a burst of thousands of
 * events a second costs the browsers a few messages.
 * @module
 */
import { type QueueStatus, taskQueueStatus } from "../client/task_queue_status.ts";
import { inspectWorkers } from "../client/inspect_workers.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { DeadLetterSummary } from "../dlq/dead_letter_summary.ts";
import { listDeadLetters } from "../dlq/dead_letter_queue.ts";
import type { TaskRoute } from "../plugin/resolve_tasks.ts";
import { Semaphore } from "../semaphore.ts";
import type { Transport } from "../transport/transport.ts";
import type { CeleryEvent } from "./celery_event.ts";
import { bucketSeries, niceBucketMs, type TimeSeries } from "./chart_series.ts";
import type { EventStore } from "./event_store.ts";
import { listResultsFiles, type ResultsFileEntry } from "./results_listing.ts";
import type { SseHub } from "./sse_hub.ts";
import type { TaskRow } from "./task_state.ts";
import { applyWorkerStats, isWorkerOffline, newWorkerRow, type WorkerRow } from "./worker_state.ts";

/** One task queue on the page. */
export interface QueueView extends QueueStatus {
  /** Messages per second arriving (published) and leaving (taken by workers), over the last poll. */
  rateIn: number | null;
  rateOut: number | null;
}

/** The dead letters of one task queue (the oldest ones, up to a page). */
export interface DeadLetterView {
  task: string;
  queue: string;
  total: number;
  messages: DeadLetterSummary[];
}

/** Everything a page needs when it (re)connects. */
export interface Snapshot {
  broker: string;
  retentionMs: number;
  workers: WorkerRow[];
  queues: QueueView[];
  tasks: TaskRow[];
  series: TimeSeries;
  deadLetters: DeadLetterView[];
  results: ResultsFileEntry[];
}

/** What the monitor works with. */
export interface FleetMonitorOptions {
  transport: Transport;
  store: EventStore;
  hub: SseHub;
  routes: readonly TaskRoute[];
  retentionMs: number;
  resultsDir: string;
  /** Queue depths and dead letters this often. @default 2000 */
  pollMs?: number;
  /** Remote-control `stats` this often (workers without events show too). @default 5000 */
  statsMs?: number;
  /** Changed rows go to the pages this often. @default 250 */
  flushMs?: number;
  /** The charts' window. @default 15 minutes */
  chartSpanMs?: number;
  clock?: Clock;
  onError?: (what: string, error: unknown) => void;
}

/** Events, polls and batching for one dashboard. A class: it runs loops until stopped. */
export class FleetMonitor {
  readonly #o: FleetMonitorOptions & { clock: Clock; chartSpanMs: number };
  readonly #stop = new AbortController();
  /** Broker admin work one at a time: a dead-letter listing must not interleave with a replay. */
  readonly #broker = new Semaphore(1);
  readonly #changedTasks = new Map<string, TaskRow>();
  readonly #changedWorkers = new Map<string, WorkerRow>();
  #queues: QueueView[] = [];
  #deadLetters: DeadLetterView[] = [];
  #results: ResultsFileEntry[] = [];
  #taken = new Map<string, number>();
  #lastPoll: { atMs: number; depth: Map<string, number> } | null = null;
  #loops: Promise<void>[] = [];
  #batch: CeleryEvent[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: FleetMonitorOptions) {
    this.#o = {
      ...options,
      clock: options.clock ?? systemClock,
      chartSpanMs: options.chartSpanMs ?? 15 * 60_000,
    };
  }

  /**
   * Take one event from the subscription. Events are gathered for 50 ms (or
   * 1000 of them), then recorded in one transaction.
   */
  push(event: CeleryEvent): void {
    this.#batch.push(event);
    if (this.#batch.length >= 1000) this.#write();
    else this.#batchTimer ??= setTimeout(() => this.#write(), 50);
  }

  /** Start polling and batching. */
  start(): void {
    const o = this.#o;
    const every = (ms: number, what: string, work: () => Promise<void> | void) =>
      this.#loops.push(this.#every(ms, what, work));
    every(o.flushMs ?? 250, "send changes", () => this.#flush());
    every(o.pollMs ?? 2000, "poll queues", () => this.pollQueues());
    every(o.statsMs ?? 5000, "ask workers", () => this.pollWorkers());
    every(10_000, "list results", async () => {
      this.#results = await listResultsFiles(o.resultsDir);
      o.hub.broadcast("results", this.#results);
    });
    every(60_000, "prune history", () => {
      o.store.prune(o.clock.now() - o.retentionMs);
    });
  }

  /** Stop every loop. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#batchTimer !== null) clearTimeout(this.#batchTimer);
    this.#write();
    await Promise.allSettled(this.#loops);
  }

  /** Record events (from the subscription, or a test) and queue their rows for the pages. */
  ingest(events: readonly CeleryEvent[]): void {
    if (events.length === 0) return;
    const changed = this.#o.store.record(events);
    for (const row of changed.tasks) this.#changedTasks.set(row.id, row);
    for (const row of changed.workers) this.#changedWorkers.set(row.name, row);
    for (const event of events) {
      // A new worker's tasks and pool come from its stats: ask now, not at the next poll.
      if (event.type === "worker-online") this.#askWorkersSoon();
      if (event.type !== "task-received" || typeof event.name !== "string") continue;
      this.#taken.set(event.name, (this.#taken.get(event.name) ?? 0) + 1);
    }
  }

  #askingSoon = false;

  #askWorkersSoon(): void {
    if (this.#askingSoon || this.#stop.signal.aborted) return;
    this.#askingSoon = true;
    this.pollWorkers().catch(() => {}).finally(() => (this.#askingSoon = false));
  }

  /** The page's first message. */
  async snapshot(): Promise<Snapshot> {
    if (this.#results.length === 0) {
      this.#results = await listResultsFiles(this.#o.resultsDir).catch(() => []);
    }
    return {
      broker: this.#o.transport.url,
      retentionMs: this.#o.retentionMs,
      workers: this.#workersNow(),
      queues: this.#queues,
      tasks: this.#o.store.tasks({ limit: 300 }),
      series: this.series(),
      deadLetters: this.#deadLetters,
      results: this.#results,
    };
  }

  /** Throughput, runtime and (where the send was seen) publish-to-result latency over the charts' window. */
  series(): TimeSeries {
    const toMs = this.#o.clock.now();
    const fromMs = toMs - this.#o.chartSpanMs;
    const samples = this.#o.store.finishedSince(fromMs).map((row) => ({
      atMs: row.finishedMs!,
      ms: row.runtimeMs,
      ok: row.state === "SUCCESS",
      sentToResultMs: sentToResultMs(row),
    }));
    return bucketSeries(samples, { fromMs, toMs, bucketMs: niceBucketMs(this.#o.chartSpanMs) });
  }

  /** Run broker admin work (a replay, a purge) between polls, never during one. */
  async withBroker<T>(work: (transport: Transport) => Promise<T>): Promise<T> {
    await this.#broker.acquire();
    try {
      return await work(this.#o.transport);
    } finally {
      this.#broker.release();
    }
  }

  /** Depth, consumers, dead letters and rates of every task queue; lists dead letters that changed. */
  async pollQueues(): Promise<void> {
    const o = this.#o;
    const atMs = o.clock.now();
    const views = await this.withBroker((transport) =>
      Promise.all(o.routes.map((route) => taskQueueStatus(transport, route)))
    );
    const seconds = this.#lastPoll ? (atMs - this.#lastPoll.atMs) / 1000 : 0;
    const depth = new Map<string, number>();
    const queues: QueueView[] = views.map((status) => {
      const taken = this.#taken.get(status.task) ?? 0;
      const before = this.#lastPoll?.depth.get(status.queue);
      if (status.messages !== null) depth.set(status.queue, status.messages);
      const rateOut = seconds > 0 ? round(taken / seconds) : null;
      // What arrived = what left + how much the queue grew.
      const rateIn = seconds > 0 && status.messages !== null && before !== undefined
        ? Math.max(0, round((taken + status.messages - before) / seconds))
        : null;
      return { ...status, rateIn, rateOut };
    });
    this.#taken = new Map();
    this.#lastPoll = { atMs, depth };
    this.#queues = queues;
    o.hub.broadcast("queues", queues);
    o.hub.broadcast("series", this.series());
    await this.#refreshDeadLetters(queues);
  }

  /** Ask every worker for `stats` (one broadcast), and mark silent ones offline. */
  async pollWorkers(): Promise<void> {
    const o = this.#o;
    const stats = await inspectWorkers(o.transport, { method: "stats", timeoutMs: 1000 });
    const atMs = o.clock.now();
    for (const [name, value] of stats) {
      const row = applyWorkerStats(o.store.worker(name) ?? newWorkerRow(name), value, atMs);
      o.store.putWorker(row);
      this.#changedWorkers.set(name, row);
    }
    o.hub.broadcast("workers", this.#workersNow());
  }

  /** Re-list dead letters now (after a replay or purge). */
  async refreshDeadLetters(): Promise<void> {
    await this.pollQueues();
  }

  #workersNow(): WorkerRow[] {
    const now = this.#o.clock.now();
    const silentMs = 3 * (this.#o.statsMs ?? 5000) + 2000;
    return this.#o.store.workers().map((row) => ({
      ...row,
      online: !isWorkerOffline(row, now, silentMs),
    }));
  }

  async #refreshDeadLetters(queues: readonly QueueView[]): Promise<void> {
    const before = new Map(this.#deadLetters.map((d) => [d.queue, d.total]));
    const changed = queues.some((q) => (q.dead ?? 0) !== (before.get(q.queue) ?? 0));
    if (!changed) return;
    const views: DeadLetterView[] = [];
    for (const q of queues) {
      if (!q.dead) continue;
      const listing = await this.withBroker((transport) =>
        listDeadLetters(transport, q.queue, { limit: 50 })
      );
      views.push({
        task: q.task,
        queue: q.queue,
        total: listing.total,
        messages: listing.messages,
      });
    }
    this.#deadLetters = views;
    this.#o.hub.broadcast("deadLetters", views);
  }

  #flush(): void {
    if (this.#changedTasks.size > 0) {
      this.#o.hub.broadcast("tasks", [...this.#changedTasks.values()]);
      this.#changedTasks.clear();
    }
    if (this.#changedWorkers.size > 0) {
      this.#changedWorkers.clear();
      this.#o.hub.broadcast("workers", this.#workersNow());
    }
  }

  #write(): void {
    this.#batchTimer = null;
    const taken = this.#batch;
    this.#batch = [];
    try {
      this.ingest(taken);
    } catch (error) {
      this.#o.onError?.("record events", error);
    }
  }

  async #every(ms: number, what: string, work: () => Promise<void> | void): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await work();
      } catch (error) {
        if (!signal.aborted) this.#o.onError?.(what, error);
      }
      try {
        await this.#o.clock.sleep(ms, signal);
      } catch {
        return;
      }
    }
  }
}

/**
 * From the send to the result, for a task that succeeded or failed and whose
 * `task-sent` was seen; null otherwise (a revoked task has no result to wait
 * for). Sender and worker clocks may differ a little: never below zero.
 */
function sentToResultMs(
  row: { sentMs: number | null; finishedMs: number | null; state: string },
): number | null {
  if (row.sentMs === null || row.finishedMs === null) return null;
  if (row.state !== "SUCCESS" && row.state !== "FAILURE") return null;
  return Math.max(0, row.finishedMs - row.sentMs);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
