/**
 * The taking side of a fleet-wide rate limit: a task starts once its worker
 * took a token from `dts.limit.<task>.tokens`, which the leader refills
 * (`rate_leader.ts`). A worker consumes the bucket only while tasks of its
 * wait, one token at a time, so an idle worker takes none from the others.
 * @module
 */
import type { Clock } from "../clock.ts";
import { CANCELLED } from "../clock.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { declareTokenQueue, tokenQueueName } from "./limit_queues.ts";
import { WaitLine } from "./waiters.ts";

const RETRY_MS = 1000;

/** One worker's line of tasks waiting for a token. */
export class RateTokens {
  readonly #transport: Transport;
  readonly #queue: string;
  readonly #task: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #line = new WaitLine<void>(() => this.#stopIfNobodyWaits());
  #stop: AbortController | null = null;
  #closed = false;
  #taken = 0;

  constructor(options: { transport: Transport; task: string; logger: Logger; clock: Clock }) {
    this.#transport = options.transport;
    this.#task = options.task;
    this.#queue = tokenQueueName(options.task);
    this.#logger = options.logger;
    this.#clock = options.clock;
  }

  /** Tasks of this worker waiting for a token. */
  get waiting(): number {
    return this.#line.length;
  }

  /** Tokens this worker took since it started. */
  get taken(): number {
    return this.#taken;
  }

  /** Resolves once this task may start; rejects with the signal's reason when it aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the worker is stopping"));
    const token = this.#line.join(signal);
    if (this.#stop === null) this.#take();
    return token;
  }

  /** Stop taking tokens; waiting tasks reject. */
  close(): void {
    this.#closed = true;
    this.#line.rejectAll(new Error("the worker is stopping"));
    this.#stopIfNobodyWaits();
  }

  #take(): void {
    const stop = new AbortController();
    this.#stop = stop;
    this.#follow(stop).then(
      () => this.#ended(stop, null),
      (error) => this.#ended(stop, error),
    );
  }

  async #follow(stop: AbortController): Promise<void> {
    const tokens = this.#transport.consume(this.#queue, { prefetch: 1, signal: stop.signal });
    for await (const token of tokens) {
      if (this.#stop !== stop || this.#line.length === 0) {
        // Nobody here wants it (any more): stop first, so that it goes to another worker.
        this.#stopIfNobodyWaits();
        await token.requeue().catch(() => {});
        return;
      }
      try {
        await token.ack();
      } catch {
        continue; // its channel died: the broker has it back, and this consumer resumes
      }
      this.#taken++;
      this.#line.serve();
      this.#stopIfNobodyWaits();
    }
  }

  #ended(stop: AbortController, error: unknown): void {
    if (this.#stop !== stop) return;
    this.#stop = null;
    if (this.#closed || error === null) return;
    this.#logger.warn("Stopped taking rate-limit tokens; trying again", {
      task: this.#task,
      queue: this.#queue,
      error,
    });
    this.#clock.sleep(RETRY_MS)
      .then(() => declareTokenQueue(this.#transport, this.#task))
      .catch((error) => this.#logger.debug("Cannot declare a token bucket", { error }))
      .then(() => {
        if (this.#stop === null && this.#line.length > 0 && !this.#closed) this.#take();
      });
  }

  #stopIfNobodyWaits(): void {
    if (this.#line.length > 0 && !this.#closed) return;
    this.#stop?.abort(CANCELLED);
    this.#stop = null;
  }
}
