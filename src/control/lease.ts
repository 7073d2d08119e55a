/**
 * Leadership by lease: every candidate subscribes to one claim queue
 * (`claim_queue.ts`); the one the broker hands the claim to leads, for as
 * long as it holds it. It gives up at once when its connection drops (the
 * broker takes the claim back with it); a resumed subscription leads again
 * only if the claim comes back to it. When a leader dies the next candidate
 * in line leads, as soon as the broker sees the connection close. No
 * election protocol, no clocks to agree on, never two leaders.
 * @module
 */
import type { Clock } from "../clock.ts";
import { CANCELLED } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { declareClaim } from "./claim_queue.ts";

/** How to stand for a lease. */
export interface LeaseOptions {
  transport: Transport;
  /** The claim queue. */
  queue: string;
  logger: Logger;
  clock: Clock;
  /** Log fields naming what is led, e.g. `{ task: "task_a" }`. */
  fields: Record<string, unknown>;
  /** What leading means, for the log: "refilling the rate-limit tokens". */
  duty: string;
  /** Called each time this candidate starts leading; `term` aborts when it stops. */
  lead(term: AbortSignal): void;
}

/** One candidate's standing for a lease. */
export class Lease {
  readonly #options: LeaseOptions;
  #term: AbortController | null = null;

  constructor(options: LeaseOptions) {
    this.#options = options;
  }

  /** Whether this candidate leads now. */
  get leading(): boolean {
    return this.#term !== null;
  }

  /** Declare the claim queue (with a claim) and stand until `signal` aborts; `done` ends then. */
  async start(signal: AbortSignal): Promise<{ done: Promise<void> }> {
    const { transport, queue } = this.#options;
    await declareClaim(transport, queue);
    const unsubscribe = transport.onStatus((status) => {
      if (status.type !== "connected") this.#resign("the broker connection dropped");
    });
    const done = this.#stand(signal).finally(() => {
      unsubscribe();
      this.#resign("it is stopping");
    });
    return { done };
  }

  async #stand(signal: AbortSignal): Promise<void> {
    const { transport, queue, logger, clock, fields } = this.#options;
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        // Held, never acknowledged: holding the claim is leading. A second delivery is the
        // same lease back after a reconnect while leading.
        for await (const _claim of transport.consume(queue, { prefetch: 1, signal })) {
          if (this.#term === null) this.#begin();
        }
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.#resign("its lease queue failed");
        logger.warn("Cannot stand for leader; trying again", { ...fields, queue, error });
        await clock.sleep(Math.min(1000 * 2 ** failures, 10_000), signal).catch(() => {});
        await declareClaim(transport, queue).catch(() => {});
      }
    }
  }

  #begin(): void {
    const { logger, fields, duty, lead } = this.#options;
    this.#term = new AbortController();
    logger.info(`Leading: ${duty}`, fields);
    lead(this.#term.signal);
  }

  #resign(why: string): void {
    const term = this.#term;
    if (term === null) return;
    this.#term = null;
    term.abort(CANCELLED);
    this.#options.logger.info(`No longer leading: ${why}`, { ...this.#options.fields });
  }
}
