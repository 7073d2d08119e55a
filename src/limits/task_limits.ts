/**
 * One worker's share of its tasks' fleet-wide limits: for each limited task,
 * a rate-limit token taker and leader candidacy, and the concurrency slots.
 * A task waits for a token first, then for a slot, and holds the slot until
 * its outcome is recorded.
 * @module
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { ConcurrencySlots } from "./concurrency_slots.ts";
import type { RateLimit } from "./rate_limit.ts";
import { RateLeader } from "./rate_leader.ts";
import { RateTokens } from "./rate_tokens.ts";

/** A task's limits (plugin `rateLimit`/`maxConcurrency`, config `rate_limit`/`max_concurrency`). */
export interface TaskLimitSettings {
  rateLimit?: RateLimit;
  maxConcurrency?: number;
}

/** What `inspect stats`, `dts status` and `/metrics` show of one task's limits on one worker. */
export interface TaskLimitState {
  rate_limit?: string;
  /** This worker refills the task's tokens now. */
  leader?: boolean;
  /** Tokens this worker took. */
  tokens_taken?: number;
  max_concurrency?: number;
  /** Slots this worker holds now. */
  slots_held?: number;
  /** Tasks on this worker waiting for a token or a slot. */
  waiting: number;
}

interface Limited {
  settings: TaskLimitSettings;
  tokens: RateTokens | null;
  leader: RateLeader | null;
  slots: ConcurrencySlots | null;
}

/**
 * The longest a task waits for its limits on one worker before it goes back
 * to its queue's tail (and comes round again): its message is unacknowledged
 * while it waits, and RabbitMQ closes a channel holding one past
 * `consumer_timeout` (30 min by default), wait and run together.
 */
export const MAX_LIMIT_WAIT_MS = 60_000;

/** Gives back what a task held; safe to call once it is done. */
export type ReleaseLimits = () => Promise<void>;

const NOTHING_HELD: ReleaseLimits = () => Promise.resolve();

/** The limits of the tasks one worker runs. */
export class TaskLimits {
  readonly #limited = new Map<string, Limited>();
  readonly #logger: Logger;
  readonly #loops: Promise<void>[] = [];

  constructor(options: {
    transport: Transport;
    tasks: ReadonlyMap<string, TaskLimitSettings>;
    logger: Logger;
    clock: Clock;
  }) {
    this.#logger = options.logger;
    const { transport, logger, clock } = options;
    for (const [task, settings] of options.tasks) {
      const { rateLimit, maxConcurrency } = settings;
      if (rateLimit === undefined && maxConcurrency === undefined) continue;
      this.#limited.set(task, {
        settings,
        tokens: rateLimit === undefined ? null : new RateTokens({ transport, task, logger, clock }),
        leader: rateLimit === undefined
          ? null
          : new RateLeader({ transport, task, limit: rateLimit, logger, clock }),
        slots: maxConcurrency === undefined
          ? null
          : new ConcurrencySlots({ transport, task, max: maxConcurrency, logger, clock }),
      });
    }
  }

  /** Whether any task here is limited. */
  get any(): boolean {
    return this.#limited.size > 0;
  }

  /** Declare the limits' queues and stand for leader of each rate limit until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    for (const [task, limited] of this.#limited) {
      await limited.slots?.start();
      if (limited.leader !== null) this.#loops.push((await limited.leader.start(signal)).done);
      this.#logger.info("Fleet-wide limits apply to this task", {
        task,
        ...(limited.settings.rateLimit ? { rate_limit: limited.settings.rateLimit.text } : {}),
        ...(limited.settings.maxConcurrency
          ? { max_concurrency: limited.settings.maxConcurrency }
          : {}),
      });
    }
  }

  /** Whether `task` has a limit, so that its start may wait. */
  limits(task: string): boolean {
    return this.#limited.has(task);
  }

  /**
   * Wait until `task` may start: a token, then a slot. Rejects with the
   * signal's reason when it aborts first, holding nothing then.
   */
  async acquire(task: string, signal: AbortSignal): Promise<ReleaseLimits> {
    const limited = this.#limited.get(task);
    if (limited === undefined) return NOTHING_HELD;
    await limited.tokens?.acquire(signal);
    const permit = await limited.slots?.acquire(signal);
    return permit === undefined ? NOTHING_HELD : () => permit.release();
  }

  /** Each limited task's state on this worker. */
  describe(): Record<string, TaskLimitState> {
    const out: Record<string, TaskLimitState> = {};
    for (const [task, { settings, tokens, leader, slots }] of this.#limited) {
      out[task] = {
        ...(settings.rateLimit === undefined ? {} : {
          rate_limit: settings.rateLimit.text,
          leader: leader?.leading ?? false,
          tokens_taken: tokens?.taken ?? 0,
        }),
        ...(settings.maxConcurrency === undefined ? {} : {
          max_concurrency: settings.maxConcurrency,
          slots_held: slots?.held ?? 0,
        }),
        waiting: (tokens?.waiting ?? 0) + (slots?.waiting ?? 0),
      };
    }
    return out;
  }

  /** Stop waiting for anything; leadership ends with the `start()` signal. */
  async close(): Promise<void> {
    for (const { tokens, slots } of this.#limited.values()) {
      tokens?.close();
      slots?.close();
    }
    await Promise.allSettled(this.#loops);
  }
}
