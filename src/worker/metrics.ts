/**
 * The worker's Prometheus metrics (SPEC "Health and metrics"), rendered in
 * the text exposition format 0.0.4. No dependencies, no global registry.
 * @module
 */
import type { TaskLimitState } from "../limits/task_limits.ts";

/** How an attempt of a task ended, as counted in `dts_tasks_total`. */
export type TaskMetricStatus = "SUCCESS" | "FAILURE" | "RETRY" | "REJECTED" | "REVOKED";

/** Upper bounds (seconds) of the task duration histogram: 5 ms to 60 s. */
export const DURATION_BUCKETS_S: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
]);

interface Histogram {
  /** Per-bucket (non-cumulative) counts; the last slot is above the top bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** Counters, gauges and the duration histogram of one worker process. */
export class WorkerMetrics {
  #tasks = new Map<string, number>();
  #durations = new Map<string, Histogram>();
  #retries = new Map<string, number>();
  #revokedKnown: () => number = () => 0;
  #limits: () => Record<string, TaskLimitState> = () => ({});
  #events: () => { sent: number; dropped: number; failed: number } | null = () => null;
  #inFlight = 0;
  #concurrency = 0;
  #brokerConnected = false;
  #reconnects = 0;

  /** Count one finished attempt and observe its duration (seconds). */
  taskFinished(task: string, status: TaskMetricStatus, durationS: number): void {
    const key = JSON.stringify([task, status]);
    this.#tasks.set(key, (this.#tasks.get(key) ?? 0) + 1);
    if (!Number.isFinite(durationS) || durationS < 0) return;
    let histogram = this.#durations.get(task);
    if (histogram === undefined) {
      histogram = { counts: new Array(DURATION_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 };
      this.#durations.set(task, histogram);
    }
    const slot = DURATION_BUCKETS_S.findIndex((le) => durationS <= le);
    histogram.counts[slot === -1 ? DURATION_BUCKETS_S.length : slot] += 1;
    histogram.sum += durationS;
    histogram.count += 1;
  }

  /** Count one retry scheduled for `task`. */
  retried(task: string): void {
    this.#retries.set(task, (this.#retries.get(task) ?? 0) + 1);
  }

  /** An attempt started: the in-flight gauge goes up. */
  taskStarted(): void {
    this.#inFlight += 1;
  }

  /** An attempt ended: the in-flight gauge goes down (never below 0). */
  taskEnded(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  /** Record how many attempts the worker may run at once now (moves with `--autoscale`). */
  setConcurrency(size: number): void {
    this.#concurrency = size;
  }

  /** Where the revocations this worker knows of are counted (read at each scrape). */
  countRevokedWith(count: () => number): void {
    this.#revokedKnown = count;
  }

  /** Where the fleet-wide limits' state is read from (at each scrape). */
  describeLimitsWith(describe: () => Record<string, TaskLimitState>): void {
    this.#limits = describe;
  }

  /** Where the Celery events' counts are read from (at each scrape); null with events off. */
  countEventsWith(stats: () => { sent: number; dropped: number; failed: number } | null): void {
    this.#events = stats;
  }

  /** Record whether the broker connection is up. */
  setBrokerConnected(connected: boolean): void {
    this.#brokerConnected = connected;
  }

  /** Count one successful reconnect to the broker (not a failed attempt). */
  reconnected(): void {
    this.#reconnects += 1;
  }

  /** Celery events by what became of them; a worker with events off shows none. */
  #renderEvents(): string[] {
    const stats = this.#events();
    if (stats === null) return [];
    return [
      ...header(
        "dts_events_total",
        "counter",
        "Celery events (-E) by outcome: sent (confirmed), dropped (broker away or slow), failed (refused).",
      ),
      ...(["sent", "dropped", "failed"] as const).map((outcome) =>
        `dts_events_total${labels({ outcome })} ${stats[outcome]}`
      ),
    ];
  }

  /** The fleet-wide limits of the limited tasks only: an unlimited worker shows none. */
  #renderLimits(): string[] {
    const limits = Object.entries(this.#limits());
    if (limits.length === 0) return [];
    const rated = limits.filter(([, state]) => state.rate_limit !== undefined);
    const slotted = limits.filter(([, state]) => state.max_concurrency !== undefined);
    const lines: string[] = [];
    if (rated.length > 0) {
      lines.push(
        ...header(
          "dts_rate_limit_leader",
          "gauge",
          "1 while this worker refills the task's fleet-wide rate-limit tokens, else 0.",
        ),
      );
      for (const [task, state] of rated) {
        lines.push(`dts_rate_limit_leader${labels({ task })} ${state.leader ? 1 : 0}`);
      }
      lines.push(
        ...header(
          "dts_rate_limit_tokens_taken_total",
          "counter",
          "Rate-limit tokens taken, by task.",
        ),
      );
      for (const [task, state] of rated) {
        lines.push(
          `dts_rate_limit_tokens_taken_total${labels({ task })} ${state.tokens_taken ?? 0}`,
        );
      }
    }
    if (slotted.length > 0) {
      lines.push(
        ...header(
          "dts_concurrency_slots_held",
          "gauge",
          "Fleet-wide max_concurrency slots this worker holds now, by task.",
        ),
      );
      for (const [task, state] of slotted) {
        lines.push(`dts_concurrency_slots_held${labels({ task })} ${state.slots_held ?? 0}`);
      }
    }
    lines.push(
      ...header(
        "dts_limit_waiting_tasks",
        "gauge",
        "Tasks received and waiting for a fleet-wide limit, by task.",
      ),
    );
    for (const [task, state] of limits) {
      lines.push(`dts_limit_waiting_tasks${labels({ task })} ${state.waiting}`);
    }
    return lines;
  }

  /** The metrics in Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    lines.push(
      ...header("dts_tasks_total", "counter", "Task attempts finished, by task and status."),
    );
    for (const [key, value] of [...this.#tasks].sort(byKey)) {
      const [task, status] = JSON.parse(key) as [string, string];
      lines.push(`dts_tasks_total${labels({ task, status })} ${formatNumber(value)}`);
    }

    lines.push(
      ...header("dts_task_duration_seconds", "histogram", "Duration of task attempts in seconds."),
    );
    for (const [task, histogram] of [...this.#durations].sort(byKey)) {
      let cumulative = 0;
      DURATION_BUCKETS_S.forEach((le, index) => {
        cumulative += histogram.counts[index];
        lines.push(
          `dts_task_duration_seconds_bucket${labels({ task, le: formatNumber(le) })} ${cumulative}`,
        );
      });
      lines.push(
        `dts_task_duration_seconds_bucket${labels({ task, le: "+Inf" })} ${histogram.count}`,
      );
      lines.push(`dts_task_duration_seconds_sum${labels({ task })} ${formatNumber(histogram.sum)}`);
      lines.push(`dts_task_duration_seconds_count${labels({ task })} ${histogram.count}`);
    }

    lines.push(...header("dts_task_retries_total", "counter", "Retries scheduled, by task."));
    for (const [task, value] of [...this.#retries].sort(byKey)) {
      lines.push(`dts_task_retries_total${labels({ task })} ${formatNumber(value)}`);
    }

    lines.push(...header("dts_tasks_in_flight", "gauge", "Task attempts running now."));
    lines.push(`dts_tasks_in_flight ${this.#inFlight}`);

    lines.push(
      ...header(
        "dts_worker_concurrency",
        "gauge",
        "Task attempts the worker may run at once now; moves with --autoscale.",
      ),
    );
    lines.push(`dts_worker_concurrency ${this.#concurrency}`);

    lines.push(
      ...header(
        "dts_revoked_tasks",
        "gauge",
        "Revocations this worker honours now (fleet-wide, for 3 hours each).",
      ),
    );
    lines.push(`dts_revoked_tasks ${this.#revokedKnown()}`);
    lines.push(...this.#renderLimits());
    lines.push(...this.#renderEvents());

    lines.push(
      ...header("dts_broker_connected", "gauge", "1 while connected to the broker, else 0."),
    );
    lines.push(`dts_broker_connected ${this.#brokerConnected ? 1 : 0}`);

    lines.push(
      ...header("dts_broker_reconnects_total", "counter", "Successful reconnects to the broker."),
    );
    lines.push(`dts_broker_reconnects_total ${this.#reconnects}`);

    return lines.join("\n") + "\n";
  }
}

function header(name: string, type: string, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

function byKey<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function labels(values: Record<string, string>): string {
  const pairs = Object.entries(values).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return `{${pairs.join(",")}}`;
}

/** Label value escaping of the text format: backslash, double quote, newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
