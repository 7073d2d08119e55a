/**
 * The refilling side of a fleet-wide rate limit. Every worker of the task
 * subscribes to `dts.limit.<task>.leader`, a single-active-consumer queue
 * with a lease in it: the worker the broker delivers the lease to is the
 * leader, and puts `perSecond` tokens a second into the bucket, never more
 * than `burst` waiting. It stays leader while it holds the lease
 * unacknowledged; when it dies its connection closes, the broker gives the
 * lease to the next subscriber, and that one refills from then on. No
 * election protocol, no clocks to agree on, and never two leaders: the
 * broker hands one message to one consumer.
 *
 * A leader whose connection drops stops refilling at once: the broker takes
 * the lease back with the connection, and the resumed subscription is
 * leader again only if the lease comes back to it.
 * @module
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import type { Delivery, Transport } from "../transport/transport.ts";
import {
  declareClaim,
  declareTokenQueue,
  leaderQueueName,
  tokenQueueName,
} from "./limit_queues.ts";
import type { RateLimit } from "./rate_limit.ts";

const TOKEN = new Uint8Array(0);

/** The shortest and longest wait between two refills. */
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1000;

/** One worker's candidacy for refilling a task's bucket. */
export class RateLeader {
  readonly #transport: Transport;
  readonly #task: string;
  readonly #limit: RateLimit;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #tokens: string;
  #lease: Delivery | null = null;
  #refilling: Promise<void> | null = null;
  #issued = 0;
  #unsubscribe: (() => void) | null = null;

  constructor(
    options: { transport: Transport; task: string; limit: RateLimit; logger: Logger; clock: Clock },
  ) {
    this.#transport = options.transport;
    this.#task = options.task;
    this.#limit = options.limit;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#tokens = tokenQueueName(options.task);
  }

  /** Whether this worker refills the bucket now. */
  get leading(): boolean {
    return this.#lease !== null;
  }

  /** Tokens this worker put in while it led. */
  get issued(): number {
    return this.#issued;
  }

  /**
   * Declare the bucket and the lease, and stand for leader until `signal`
   * aborts; the returned promise ends then.
   */
  async start(signal: AbortSignal): Promise<{ done: Promise<void> }> {
    await declareTokenQueue(this.#transport, this.#task);
    await declareClaim(this.#transport, leaderQueueName(this.#task));
    this.#unsubscribe = this.#transport.onStatus((status) => {
      if (status.type !== "connected" && this.#lease !== null) {
        this.#resign("the broker connection dropped");
      }
    });
    const done = this.#stand(signal).finally(() => {
      this.#unsubscribe?.();
      this.#resign("the worker is stopping");
    });
    return { done };
  }

  async #stand(signal: AbortSignal): Promise<void> {
    const queue = leaderQueueName(this.#task);
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        for await (const lease of this.#transport.consume(queue, { prefetch: 1, signal })) {
          const first = this.#lease === null;
          this.#lease = lease;
          if (first) this.#lead(signal);
        }
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.#resign("its lease queue failed");
        this.#logger.warn("Cannot stand for rate-limit leader; trying again", {
          task: this.#task,
          queue,
          error,
        });
        await this.#clock.sleep(Math.min(1000 * 2 ** failures, 10_000), signal).catch(() => {});
        await declareClaim(this.#transport, queue).catch(() => {});
      }
    }
  }

  #lead(signal: AbortSignal): void {
    this.#logger.info("Leading the fleet-wide rate limit: refilling its tokens", {
      task: this.#task,
      rate_limit: this.#limit.text,
      burst: this.#limit.burst,
    });
    this.#refilling ??= this.#refill(signal).finally(() => (this.#refilling = null));
  }

  #resign(why: string): void {
    if (this.#lease === null) return;
    this.#lease = null;
    this.#logger.info("No longer leading the rate limit", { task: this.#task, why });
  }

  /** Add what accrued since the last tick, up to `burst` waiting; the fraction carries over. */
  async #refill(signal: AbortSignal): Promise<void> {
    const { perSecond, burst } = this.#limit;
    const tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, 1000 / perSecond));
    let last = this.#clock.now();
    // A new leader starts with one token's worth: the bucket may have been empty a while.
    let accrued = 1;
    while (this.#lease !== null && !signal.aborted) {
      const now = this.#clock.now();
      accrued += ((now - last) / 1000) * perSecond;
      last = now;
      const due = Math.floor(accrued);
      if (due > 0) {
        accrued -= due; // what does not fit in the bucket is lost, as in any token bucket
        try {
          const waiting = (await this.#transport.inspectQueue(this.#tokens))?.messages ?? 0;
          const adding = Math.min(due, burst - waiting);
          const publishes = [];
          for (let i = 0; i < adding; i++) {
            publishes.push(this.#transport.publish(this.#tokens, TOKEN));
          }
          await Promise.all(publishes);
          if (this.#lease !== null) this.#issued += Math.max(0, adding);
        } catch (error) {
          this.#logger.debug("Cannot refill the rate-limit tokens", { task: this.#task, error });
        }
      }
      await this.#clock.sleep(tickMs, signal).catch(() => {});
    }
  }
}
