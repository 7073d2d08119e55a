/**
 * Sending task messages, for every sender alike (dispatch, load, and those
 * to come): each task queue declared once, as the workers declare it; each
 * message encoded and published with the broker's confirm, and published
 * again with backoff when the connection dropped under it.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { BrokerError } from "../errors.ts";
import { encodeTaskMessage, type TaskMessage } from "../protocol/celery_task_message.ts";
import { type Backoff, backoffDelayMs } from "../retry/backoff.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { ensureTaskQueue } from "../transport/ensure_task_queue.ts";
import type { EventEmitter } from "../events/event_emitter.ts";
import { sendTaskSent } from "../events/task_events.ts";

/** How a `TaskSender` sends. */
export interface TaskSenderOptions {
  transport: Transport;
  /** How a missing task queue is declared (the workers' `worker.queue_type`). @default classic */
  queueOptions?: TaskQueueOptions;
  /** Tries per message across dropped connections. @default 5 */
  attempts?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Send Celery's `task-sent` event for each message sent (`task_send_sent_event`). @default none */
  sentEvents?: EventEmitter | null;
}

/** Waits between tries of one publish: 200 ms doubling to 5 s, jittered. */
const REPUBLISH: Backoff = { baseMs: 200, maxMs: 5000, jitter: "full" };

/** Sends task messages; see the module notes. */
export class TaskSender {
  readonly #options: TaskSenderOptions;
  readonly #clock: Clock;
  readonly #declared = new Map<string, Promise<void>>();

  constructor(options: TaskSenderOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Declare `queue` as the workers would, once per sender.
   * @throws {BrokerError} when it cannot be declared and does not exist
   */
  prepare(queue: string, more: { maxPriority?: number } = {}): Promise<void> {
    let declared = this.#declared.get(queue);
    if (declared === undefined) {
      const options = more.maxPriority === undefined
        ? this.#options.queueOptions
        : { ...this.#options.queueOptions, maxPriority: more.maxPriority };
      declared = ensureTaskQueue(this.#options.transport, queue, options);
      declared.catch(() => this.#declared.delete(queue));
      this.#declared.set(queue, declared);
    }
    return declared;
  }

  /**
   * Publish `message` to `queue` once the broker confirms it. A publish cut
   * off by a dropped connection may or may not have landed: sending it again
   * risks a duplicate (workers are at-least-once anyway, and the sender keeps
   * the first result), not sending it risks a loss.
   * @throws {BrokerError} when the broker refuses it, or after the last try
   */
  async send(queue: string, message: TaskMessage): Promise<void> {
    await this.prepare(queue);
    const { body, props } = encodeTaskMessage(message);
    const attempts = this.#options.attempts ?? 5;
    for (let attempt = 1;; attempt++) {
      try {
        const published = this.#options.transport.publish(queue, body, props);
        // Right behind the task on the same channel, as Celery sends it: the
        // broker routes it before any worker can receive the task, so a reader
        // sees task-sent first. Not once per try: a repeat is the same send.
        const events = this.#options.sentEvents;
        if (events && attempt === 1) sendTaskSent(events, queue, message);
        return await published;
      } catch (error) {
        const again = error instanceof BrokerError && error.recoverable && attempt < attempts;
        if (!again) throw error;
        await this.#clock.sleep(backoffDelayMs(attempt - 1, REPUBLISH));
      }
    }
  }
}
