/**
 * `max_concurrency` across the fleet: N slot queues (see `limit_queues.ts`),
 * each single-active-consumer with one claim. A worker runs a task while it
 * is the active consumer of a slot holding its claim unacknowledged, with
 * prefetch 1, so one slot has one holder at most, whatever the number of
 * claim copies. Giving a slot back cancels the subscription first (the next
 * worker in line becomes active), then requeues the claim to it.
 *
 * A worker subscribes to the slots only while tasks of its wait: an idle
 * worker holds nothing. When it dies, its connection closes and the broker
 * hands its claims to the next in line: nothing to clean up.
 * @module
 */
import type { Clock } from "../clock.ts";
import { CANCELLED } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import type { Delivery, Transport } from "../transport/transport.ts";
import { declareClaim } from "../control/claim_queue.ts";
import { slotQueueName } from "./limit_queues.ts";
import { WaitLine } from "./waiters.ts";

/** One slot held: give it back once the task is done. */
export interface Permit {
  readonly slot: number;
  /** Give the slot back; later calls do nothing. */
  release(): Promise<void>;
}

interface Slot {
  readonly index: number;
  readonly queue: string;
  state: "idle" | "waiting" | "holding";
  /** Ends the current subscription. */
  stop: AbortController | null;
  /** The claim held (state "holding"). */
  claim: Delivery | null;
}

/** How long a slot whose subscription failed waits before it is declared and tried again. */
const RETRY_MS = 1000;

/** One worker's side of a task's `max_concurrency`. */
export class ConcurrencySlots {
  readonly #transport: Transport;
  readonly #task: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #slots: Slot[];
  readonly #line = new WaitLine<Permit>(() => this.#stopWatchingIfNobodyWaits());
  #closed = false;

  constructor(
    options: { transport: Transport; task: string; max: number; logger: Logger; clock: Clock },
  ) {
    this.#transport = options.transport;
    this.#task = options.task;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#slots = Array.from({ length: options.max }, (_, index) => ({
      index,
      queue: slotQueueName(options.task, index),
      state: "idle",
      stop: null,
      claim: null,
    }));
  }

  /** Declare the slots, each with its claim. */
  async start(): Promise<void> {
    for (const slot of this.#slots) await declareClaim(this.#transport, slot.queue);
  }

  /** Slots this worker holds now. */
  get held(): number {
    return this.#slots.filter((slot) => slot.state === "holding").length;
  }

  /** Tasks of this worker waiting for a slot. */
  get waiting(): number {
    return this.#line.length;
  }

  /** A slot, once one is free; rejects with the signal's reason when it aborts first. */
  acquire(signal: AbortSignal): Promise<Permit> {
    if (this.#closed) return Promise.reject(new Error("the worker is stopping"));
    const permit = this.#line.join(signal);
    this.#watchFreeSlots();
    return permit;
  }

  /** Stop waiting for slots; held ones are given back by their `release()`. */
  close(): void {
    this.#closed = true;
    this.#line.rejectAll(new Error("the worker is stopping"));
    this.#stopWatchingIfNobodyWaits();
  }

  #watchFreeSlots(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (slot.state === "idle") this.#watch(slot);
    }
  }

  /** Subscribe to `slot` (at the end of its line of workers) until it is ours or nobody waits. */
  #watch(slot: Slot): void {
    const stop = new AbortController();
    slot.state = "waiting";
    slot.stop = stop;
    this.#follow(slot, stop).then(
      () => this.#ended(slot, stop, null),
      (error) => this.#ended(slot, stop, error),
    );
  }

  /** A subscription ended; unless we ended it, the transport closed or the broker cancelled it. */
  #ended(slot: Slot, stop: AbortController, error: unknown): void {
    if (slot.stop !== stop) return;
    slot.state = "idle";
    slot.stop = null;
    slot.claim = null;
    // Ended without an error: the transport closed for good.
    if (this.#closed || error === null) return;
    this.#logger.warn("Stopped waiting for a concurrency slot; trying again", {
      task: this.#task,
      queue: slot.queue,
      error,
    });
    void this.#retryLater(slot);
  }

  /** Declare the slot again (it may have been deleted) and wait for it if tasks still wait. */
  async #retryLater(slot: Slot): Promise<void> {
    await this.#clock.sleep(RETRY_MS);
    try {
      await declareClaim(this.#transport, slot.queue);
    } catch (error) {
      this.#logger.debug("Cannot declare a concurrency slot", { queue: slot.queue, error });
    }
    if (this.#line.length > 0) this.#watchFreeSlots();
  }

  async #follow(slot: Slot, stop: AbortController): Promise<void> {
    const claims = this.#transport.consume(slot.queue, { prefetch: 1, signal: stop.signal });
    for await (const claim of claims) {
      if (slot.stop !== stop) {
        // A subscription already given up on: let the claim go to the next in line.
        await claim.requeue().catch(() => {});
        return;
      }
      if (slot.state === "holding") {
        // The connection dropped under a held slot, and the broker gave it back to us.
        slot.claim = claim;
        continue;
      }
      slot.state = "holding";
      slot.claim = claim;
      let released = false;
      const permit: Permit = {
        slot: slot.index,
        release: () => {
          if (released) return Promise.resolve();
          released = true;
          return this.#release(slot, stop);
        },
      };
      if (!this.#line.serve(permit)) await this.#release(slot, stop);
      this.#stopWatchingIfNobodyWaits();
    }
  }

  /** Cancel the subscription first, so the claim goes to the next worker in line, not back to us. */
  async #release(slot: Slot, stop: AbortController): Promise<void> {
    if (slot.stop !== stop) return;
    const claim = slot.claim;
    slot.claim = null;
    slot.stop = null;
    slot.state = "idle";
    stop.abort(CANCELLED);
    // On a dead channel the broker has it back already.
    await claim?.requeue().catch(() => {});
    if (this.#line.length > 0) this.#watchFreeSlots();
  }

  #stopWatchingIfNobodyWaits(): void {
    if (this.#line.length > 0 && !this.#closed) return;
    for (const slot of this.#slots) {
      if (slot.state !== "waiting") continue;
      slot.state = "idle";
      slot.stop?.abort(CANCELLED);
      slot.stop = null;
    }
  }
}
