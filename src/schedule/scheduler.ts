/**
 * `dts schedule`: fire each schedule's task at its slots, on one scheduler
 * of however many run. Each schedule has its own lease
 * (`control/lease.ts`, queue `dts.schedule.<name>.leader`): the scheduler
 * holding it fires, the others wait in line and take over within the
 * broker's notice of the leader's death.
 *
 * Each slot fires at most once across failover: the leader records the slot
 * (`fired_slots.ts`) before it publishes the slot's task, and a new leader
 * starts after the recorded slot. The task id is derived from (schedule,
 * slot), the same on every scheduler. A crash between the record and the
 * publish's confirm (a few ms) loses that one slot rather than firing it
 * twice. Slots missed while no scheduler led: `catch_up: latest` fires the
 * latest of them once, `none` skips them.
 * @module
 */
import { TaskSender } from "../client/send_task.ts";
import type { Clock } from "../clock.ts";
import type { ScheduleConfig } from "../config/schedule_schema.ts";
import { Lease } from "../control/lease.ts";
import { type Backoff, backoffDelayMs } from "../retry/backoff.ts";
import type { Logger } from "../log/logger.ts";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { readLastFired, recordFired, scheduleLeaderQueueName } from "./fired_slots.ts";
import { latestSlotSince, nextSlot, slotTaskId } from "./schedule_times.ts";

/** Waits before a leader that failed to fire starts over: 200 ms doubling to 5 s. */
const RESTART: Backoff = { baseMs: 200, maxMs: 5000, jitter: "half" };

/** A schedule and where its task goes. */
export interface ScheduledTask {
  schedule: ScheduleConfig;
  /** The task's wire name and queue. */
  route: { name: string; queue: string; maxPriority?: number };
}

/** A slot fired, for logs and tests. */
export interface FiredSlot {
  schedule: string;
  slot: number;
  taskId: string;
  /** How long after the slot the task was published, in ms. */
  lateMs: number;
  catchUp: boolean;
}

/** How to run a scheduler. */
export interface SchedulerOptions {
  transport: Transport;
  schedules: readonly ScheduledTask[];
  logger: Logger;
  clock: Clock;
  /** How missing task queues are declared (the workers' `worker.queue_type`). */
  queueOptions?: TaskQueueOptions;
  /** For jitter. @default Math.random */
  random?: () => number;
  onFired?(fired: FiredSlot): void;
}

/** One scheduler process's candidacy for every schedule. */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #sender: TaskSender;
  readonly #leases = new Map<string, Lease>();

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#sender = new TaskSender({
      transport: options.transport,
      queueOptions: options.queueOptions,
      clock: options.clock,
    });
  }

  /** The schedules this scheduler fires now. */
  leading(): string[] {
    return [...this.#leases].filter(([, lease]) => lease.leading).map(([name]) => name);
  }

  /** Stand for every schedule until `signal` aborts; `done` ends then. */
  async start(signal: AbortSignal): Promise<{ done: Promise<void> }> {
    const { transport, logger, clock } = this.#options;
    const stands: Promise<void>[] = [];
    for (const entry of this.#options.schedules) {
      const { name } = entry.schedule;
      await this.#sender.prepare(entry.route.queue, { maxPriority: entry.route.maxPriority });
      const lease = new Lease({
        transport,
        queue: scheduleLeaderQueueName(name),
        logger,
        clock,
        fields: { schedule: name, task: entry.route.name },
        duty: "firing the schedule",
        lead: (term) => void this.#fireWhileLeading(entry, term),
      });
      this.#leases.set(name, lease);
      stands.push((await lease.start(signal)).done);
    }
    return { done: Promise.all(stands).then(() => {}) };
  }

  /**
   * Fire while leading; a broker error (reading the record, publishing)
   * starts over from the record after a backoff: a leader that stopped
   * firing while it held the lease would silence the schedule everywhere.
   */
  async #fireWhileLeading(entry: ScheduledTask, term: AbortSignal): Promise<void> {
    const { logger, clock } = this.#options;
    for (let failures = 0; !term.aborted; failures++) {
      try {
        return await this.#fire(entry, term);
      } catch (error) {
        if (term.aborted) return;
        const delayMs = backoffDelayMs(failures, RESTART);
        logger.warn("A schedule could not fire; starting over from its record", {
          schedule: entry.schedule.name,
          error,
          delay_ms: delayMs,
        });
        await clock.sleep(delayMs, term).catch(() => {});
      }
    }
  }

  /** Fire `entry`'s slots while `term` lasts. */
  async #fire(entry: ScheduledTask, term: AbortSignal): Promise<void> {
    const { transport, clock } = this.#options;
    const { schedule } = entry;
    let last = await readLastFired(transport, schedule.name);
    if (term.aborted) return;
    const now = clock.now();
    if (last !== null && schedule.catchUp === "latest") {
      const missed = latestSlotSince(schedule.times, last, now);
      if (missed !== null) {
        await this.#fireSlot(entry, missed, true);
        last = missed;
      }
    }
    while (!term.aborted) {
      // Never before the recorded slot, even if this host's clock is behind the last leader's.
      const slot = nextSlot(schedule.times, Math.max(last ?? -Infinity, clock.now()));
      if (slot === null) return; // a cron pattern that matches never again
      const jitter = schedule.jitterMs > 0
        ? Math.floor((this.#options.random ?? Math.random)() * schedule.jitterMs)
        : 0;
      try {
        await clock.sleep(Math.max(0, slot + jitter - clock.now()), term);
      } catch {
        return;
      }
      await this.#fireSlot(entry, slot, false);
      last = slot;
    }
  }

  async #fireSlot(entry: ScheduledTask, slot: number, catchUp: boolean): Promise<void> {
    const { transport, clock, logger } = this.#options;
    const { schedule, route } = entry;
    const taskId = await slotTaskId(schedule.name, slot);
    // RECORD FIRST: a crash after this loses the slot; a crash before it fires it on the next leader.
    await recordFired(transport, schedule.name, slot, taskId);
    const message = createTaskMessage(route.name, {
      id: taskId,
      args: schedule.args,
      kwargs: schedule.kwargs,
      headers: { "x-dts-schedule": schedule.name, "x-dts-slot": new Date(slot).toISOString() },
    });
    await this.#sender.send(route.queue, message);
    const fired = { schedule: schedule.name, slot, taskId, lateMs: clock.now() - slot, catchUp };
    logger.info(catchUp ? "Fired a missed slot (catch_up: latest)" : "Fired a scheduled task", {
      schedule: schedule.name,
      task: route.name,
      id: taskId,
      slot: new Date(slot).toISOString(),
      late_ms: fired.lateMs,
    });
    this.#options.onFired?.(fired);
  }
}
