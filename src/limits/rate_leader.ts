/**
 * The refilling side of a fleet-wide rate limit: the worker holding the
 * lease of `dts.limit.<task>.leader` (`control/lease.ts`) puts `perSecond`
 * tokens a second into the bucket, never more than `burst` waiting. When it
 * dies the next worker of the task leads and refills from then on; the
 * bucket keeps what it held, so takers see at most a refill's pause.
 * @module
 */
import type { Clock } from "../clock.ts";
import { Lease } from "../control/lease.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { declareTokenQueue, leaderQueueName, tokenQueueName } from "./limit_queues.ts";
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
  readonly #lease: Lease;

  constructor(
    options: { transport: Transport; task: string; limit: RateLimit; logger: Logger; clock: Clock },
  ) {
    this.#transport = options.transport;
    this.#task = options.task;
    this.#limit = options.limit;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#tokens = tokenQueueName(options.task);
    this.#lease = new Lease({
      transport: options.transport,
      queue: leaderQueueName(options.task),
      logger: options.logger,
      clock: options.clock,
      fields: { task: options.task, rate_limit: options.limit.text, burst: options.limit.burst },
      duty: "refilling the fleet-wide rate limit's tokens",
      lead: (term) => void this.#refill(term),
    });
  }

  /** Whether this worker refills the bucket now. */
  get leading(): boolean {
    return this.#lease.leading;
  }

  /** Declare the bucket and the lease, and stand for leader until `signal` aborts. */
  async start(signal: AbortSignal): Promise<{ done: Promise<void> }> {
    await declareTokenQueue(this.#transport, this.#task);
    return await this.#lease.start(signal);
  }

  /** Add what accrued since the last tick, up to `burst` waiting; the fraction carries over. */
  async #refill(term: AbortSignal): Promise<void> {
    const { perSecond, burst } = this.#limit;
    const tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, 1000 / perSecond));
    let last = this.#clock.now();
    // A new leader starts with one token's worth: the bucket may have been empty a while.
    let accrued = 1;
    while (!term.aborted) {
      const now = this.#clock.now();
      accrued += ((now - last) / 1000) * perSecond;
      last = now;
      const due = Math.floor(accrued);
      if (due > 0) {
        accrued -= due; // what does not fit in the bucket is lost, as in any token bucket
        try {
          const waiting = (await this.#transport.inspectQueue(this.#tokens))?.messages ?? 0;
          const publishes = [];
          for (let i = 0; i < Math.min(due, burst - waiting); i++) {
            publishes.push(this.#transport.publish(this.#tokens, TOKEN));
          }
          await Promise.all(publishes);
        } catch (error) {
          this.#logger.debug("Cannot refill the rate-limit tokens", { task: this.#task, error });
        }
      }
      await this.#clock.sleep(tickMs, term).catch(() => {});
    }
  }
}
