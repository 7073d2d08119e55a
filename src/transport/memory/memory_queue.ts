/**
 * One queue of the memory broker: its ready messages, its consumers and the
 * round-robin that hands messages to consumers with room under their prefetch.
 * @module
 */

import type { Clock } from "../../clock.ts";
import { BrokerError } from "../../errors.ts";
import type { MemoryConsumerHandlers, MemorySession } from "./memory_session.ts";
import type { MessageProps } from "../transport.ts";

/** One message as the memory broker stores it. */
export interface MemoryMessage {
  readonly body: Uint8Array;
  readonly props: MessageProps;
  /** Set once the message went back to its queue after a delivery. */
  redelivered: boolean;
  /** Epoch ms after which the message is dropped (queue `messageTtlMs`), or null. */
  readonly expiresAt: number | null;
}

/** Queue settings of the memory broker (a merge of plain and task queue options). */
export interface MemoryQueueOptions {
  durable: boolean;
  autoDelete: boolean;
  expiresMs: number | null;
  messageTtlMs: number | null;
  type: "classic" | "quorum";
  deliveryLimit: number | null;
  /** A priority queue (`x-max-priority`): higher priorities first, FIFO within one. */
  maxPriority: number | null;
  /** At most this many ready messages; one more drops the oldest (`x-max-length`). */
  maxLength: number | null;
  /** Only the earliest subscribed consumer receives (`x-single-active-consumer`). */
  singleActiveConsumer: boolean;
}

/** A durable classic queue with no limits: what a plain declaration starts from. */
export const PLAIN_QUEUE_OPTIONS: Readonly<MemoryQueueOptions> = Object.freeze({
  durable: true,
  autoDelete: false,
  expiresMs: null,
  messageTtlMs: null,
  type: "classic",
  deliveryLimit: null,
  maxPriority: null,
  maxLength: null,
  singleActiveConsumer: false,
});

/** One consumer of a memory queue and how many of its messages are unsettled. */
export interface MemoryConsumerState {
  readonly queue: MemoryQueue;
  /** 0: unlimited. Changed by `MemoryConsumer.setPrefetch()`. */
  prefetch: number;
  readonly session: MemorySession;
  readonly handlers: MemoryConsumerHandlers;
  inFlight: number;
}

/** A message delivered to a session and not yet settled. */
export interface HeldMessage {
  readonly queue: MemoryQueue;
  readonly message: MemoryMessage;
  /** Null for a basic.get: no consumer's prefetch to give back. */
  readonly consumer: MemoryConsumerState | null;
}

/** A queue of the memory broker; the broker owns its lifecycle (`deleted`, `expiry`). */
export class MemoryQueue {
  readonly name: string;
  readonly options: MemoryQueueOptions;
  ready: MemoryMessage[] = [];
  consumers: MemoryConsumerState[] = [];
  /** Index of the consumer the round-robin tries first. */
  next = 0;
  /** Had a consumer at some point: `autoDelete` applies only then, as in AMQP. */
  usedByConsumer = false;
  deleted = false;
  /** The running `expiresMs` countdown, if any. */
  expiry: AbortController | null = null;
  #clock: Clock;
  #takeTag: () => number;

  /** `takeTag` hands out the broker-wide delivery tags. */
  constructor(name: string, options: MemoryQueueOptions, clock: Clock, takeTag: () => number) {
    this.name = name;
    this.options = { ...options };
    this.#clock = clock;
    this.#takeTag = takeTag;
  }

  /** Append a message (stamped with the queue's TTL) and hand it out if a consumer has room. */
  enqueue(body: Uint8Array, props: MessageProps): void {
    const ttl = this.options.messageTtlMs;
    const message = {
      body,
      props,
      redelivered: false,
      expiresAt: ttl === null ? null : this.#clock.now() + ttl,
    };
    if (this.options.maxPriority === null) this.ready.push(message);
    else {
      // After every message of its priority or higher (as RabbitMQ's priority queues).
      const priority = this.#priorityOf(message);
      const at = this.ready.findIndex((m) => this.#priorityOf(m) < priority);
      this.ready.splice(at < 0 ? this.ready.length : at, 0, message);
    }
    this.#dropOverLength();
    this.dispatch();
  }

  /** A message back from a consumer: at the head (of its priority, in a priority queue). */
  putBack(message: MemoryMessage): void {
    if (this.options.maxPriority === null) {
      this.ready.unshift(message);
    } else {
      const priority = this.#priorityOf(message);
      const at = this.ready.findIndex((m) => this.#priorityOf(m) <= priority);
      this.ready.splice(at < 0 ? this.ready.length : at, 0, message);
    }
    this.#dropOverLength();
  }

  /** Drop the oldest ready messages past `maxLength` (RabbitMQ's drop-head overflow). */
  #dropOverLength(): void {
    const max = this.options.maxLength;
    if (max === null) return;
    while (this.ready.length > max) this.ready.shift();
  }

  /** A message's priority, capped at the queue's maximum (as RabbitMQ caps it). */
  #priorityOf(message: MemoryMessage): number {
    return Math.min(message.props.priority ?? 0, this.options.maxPriority ?? 0);
  }

  /** Hand ready messages to consumers with room, round-robin. */
  dispatch(): void {
    if (this.deleted) return;
    this.dropExpired();
    // A single active consumer queue hands out to the earliest subscribed only.
    const consumers = this.options.singleActiveConsumer
      ? this.consumers.slice(0, 1)
      : this.consumers;
    while (this.ready.length > 0 && consumers.length > 0) {
      let chosen: MemoryConsumerState | null = null;
      for (let i = 0; i < consumers.length; i++) {
        const index = (this.next + i) % consumers.length;
        const consumer = consumers[index];
        if (consumer.prefetch === 0 || consumer.inFlight < consumer.prefetch) {
          chosen = consumer;
          this.next = (index + 1) % consumers.length;
          break;
        }
      }
      if (!chosen) return;
      const message = this.ready.shift() as MemoryMessage;
      const tag = this.#takeTag();
      chosen.inFlight++;
      chosen.session.hold(tag, { queue: this, message, consumer: chosen });
      chosen.handlers.deliver(tag, message);
    }
  }

  /** Drop expired messages from the head of the queue. */
  dropExpired(): void {
    if (this.options.messageTtlMs === null) return;
    const now = this.#clock.now();
    while (this.ready.length > 0 && (this.ready[0].expiresAt ?? Infinity) <= now) {
      this.ready.shift();
    }
  }

  /** Take a consumer out of the round-robin; false when it was not in it. */
  removeConsumer(consumer: MemoryConsumerState): boolean {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return false;
    this.consumers.splice(index, 1);
    if (this.next > index) this.next--;
    if (this.consumers.length > 0) this.next %= this.consumers.length;
    else this.next = 0;
    return true;
  }
}

/** The error for a queue or exchange that does not exist (AMQP 404: not recoverable). */
export function notFoundError(action: string, state: string): BrokerError {
  return new BrokerError(`Cannot ${action}: ${state}`, { recoverable: false });
}

/** Every option of a queue, in one fixed order (a record type says which keys there are, not their order). */
const QUEUE_OPTION_KEYS: readonly (keyof MemoryQueueOptions)[] = [
  "durable",
  "autoDelete",
  "expiresMs",
  "messageTtlMs",
  "type",
  "deliveryLimit",
  "maxPriority",
  "maxLength",
  "singleActiveConsumer",
];

/** The options of a queue as one comparable string, to refuse a conflicting redeclaration. */
export function queueOptionsKey(options: MemoryQueueOptions): string {
  return JSON.stringify(Object.fromEntries(QUEUE_OPTION_KEYS.map((key) => [key, options[key]])));
}
