/**
 * A session on the memory broker: what one transport holds there (its
 * consumers and its unsettled messages), like the channels of one AMQP
 * connection.
 * @module
 */

import { BrokerError } from "../../errors.ts";
import type { MemoryBroker } from "./memory_broker.ts";
import {
  type HeldMessage,
  type MemoryConsumerState,
  type MemoryMessage,
  type MemoryQueue,
  notFoundError,
} from "./memory_queue.ts";

/** Callbacks through which a memory consumer receives messages. */
export interface MemoryConsumerHandlers {
  /** A message is now held by the consumer's session under `tag`. */
  deliver(tag: number, message: MemoryMessage): void;
  /** The broker ended the consumer (its queue was deleted, or the broker closed). */
  cancelled(error: BrokerError): void;
}

/** A running consumer; `cancel()` stops deliveries, held messages stay held. */
export interface MemoryConsumer {
  cancel(): void;
  /** Change the prefetch at once; held messages count against the new one. */
  setPrefetch(prefetch: number): void;
}

/** What a session needs from its broker beyond the public API. */
export interface BrokerInternals {
  queue(name: string): MemoryQueue | undefined;
  tag(): number;
  touch(queue: MemoryQueue): void;
  removeQueue(queue: MemoryQueue): void;
  forget(session: MemorySession): void;
  assertOpen(action: string): void;
}

/**
 * What one transport holds on the memory broker: its consumers and the
 * messages delivered to it but not yet settled. Closing it puts every
 * unsettled message back at the head of its queue, marked redelivered.
 */
export class MemorySession {
  #broker: MemoryBroker;
  #internals: BrokerInternals;
  #held = new Map<number, HeldMessage>();
  #consumers = new Set<MemoryConsumerState>();
  #closed = false;

  /** Use `MemoryBroker.openSession()`. */
  constructor(broker: MemoryBroker, internals: BrokerInternals) {
    this.#broker = broker;
    this.#internals = internals;
  }

  /** Whether the session (or its broker) is closed. */
  get closed(): boolean {
    return this.#closed || this.#broker.closed;
  }

  /**
   * Start consuming; `prefetch` 0 means unlimited.
   * @throws {BrokerError} when the queue does not exist
   */
  consume(queueName: string, prefetch: number, handlers: MemoryConsumerHandlers): MemoryConsumer {
    const action = `consume queue "${queueName}"`;
    this.#assertOpen(action);
    const queue = this.#internals.queue(queueName);
    if (!queue) throw notFoundError(action, "no such queue");
    const consumer: MemoryConsumerState = {
      queue,
      prefetch,
      session: this,
      handlers,
      inFlight: 0,
    };
    queue.consumers.push(consumer);
    queue.usedByConsumer = true;
    this.#consumers.add(consumer);
    this.#internals.touch(queue);
    queueMicrotask(() => queue.dispatch());
    return {
      cancel: () => this.#cancel(consumer),
      setPrefetch: (next) => {
        consumer.prefetch = next;
        if (this.#consumers.has(consumer)) queue.dispatch();
      },
    };
  }

  /**
   * Take the first ready message (basic.get without auto-ack), or null.
   * @throws {BrokerError} when the queue does not exist
   */
  get(queueName: string): { tag: number; message: MemoryMessage } | null {
    const action = `get from queue "${queueName}"`;
    this.#assertOpen(action);
    const queue = this.#internals.queue(queueName);
    if (!queue) throw notFoundError(action, "no such queue");
    this.#internals.touch(queue);
    queue.dropExpired();
    const message = queue.ready.shift();
    if (!message) return null;
    const tag = this.#internals.tag();
    this.hold(tag, { queue, message, consumer: null });
    return { tag, message };
  }

  /** Remove a held message for good; false when the session no longer holds it. */
  ack(tag: number): boolean {
    const held = this.#release(tag);
    if (!held) return false;
    held.queue.dispatch();
    return true;
  }

  /** Put a held message back at the head of its queue, redelivered; false when not held. */
  requeue(tag: number): boolean {
    const held = this.#release(tag);
    if (!held) return false;
    if (!held.queue.deleted) {
      held.message.redelivered = true;
      held.queue.putBack(held.message);
      held.queue.dispatch();
    }
    return true;
  }

  /** Cancel every consumer and return every held message to its queue. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const consumer of [...this.#consumers]) this.#cancel(consumer);
    const held = [...this.#held.values()].reverse();
    this.#held.clear();
    const touched = new Set<MemoryQueue>();
    for (const { queue, message } of held) {
      if (queue.deleted) continue;
      message.redelivered = true;
      queue.putBack(message);
      touched.add(queue);
    }
    this.#internals.forget(this);
    if (!this.#broker.closed) { for (const queue of touched) queue.dispatch(); }
  }

  /** Broker side: record a message delivered to this session. */
  hold(tag: number, held: HeldMessage): void {
    this.#held.set(tag, held);
  }

  /** Broker side: the consumer's queue is gone. */
  forgetConsumer(consumer: MemoryConsumerState): void {
    this.#consumers.delete(consumer);
  }

  #release(tag: number): HeldMessage | undefined {
    const held = this.#held.get(tag);
    if (!held) return undefined;
    this.#held.delete(tag);
    if (held.consumer) held.consumer.inFlight--;
    return held;
  }

  #cancel(consumer: MemoryConsumerState): void {
    if (!this.#consumers.delete(consumer)) return;
    const queue = consumer.queue;
    if (!queue.removeConsumer(consumer)) return;
    if (queue.options.autoDelete && queue.consumers.length === 0 && queue.usedByConsumer) {
      if (!this.#broker.closed) this.#internals.removeQueue(queue);
      return;
    }
    if (this.#broker.closed) return;
    this.#internals.touch(queue);
    // A single active consumer queue has a new one in front now.
    if (queue.options.singleActiveConsumer) queueMicrotask(() => queue.dispatch());
  }

  #assertOpen(action: string): void {
    this.#internals.assertOpen(action);
    if (this.#closed) {
      throw new BrokerError(`Cannot ${action}: the transport is closed`, { recoverable: false });
    }
  }
}
