/**
 * The embedded `memory://` broker: queues, exchanges and bindings inside one
 * process, with AMQP's semantics where dts relies on them (prefetch,
 * round-robin, redelivery, broker-held delays, unroutable rejections).
 * Whoever needs one creates it and passes it in; there is no global broker.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { BrokerError, UnroutableError } from "../errors.ts";
import type { MessageProps, QueueInfo } from "./transport.ts";

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
}

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
}

type ExchangeType = "direct" | "fanout" | "topic";

interface QueueState {
  readonly name: string;
  readonly options: MemoryQueueOptions;
  ready: MemoryMessage[];
  consumers: ConsumerState[];
  next: number;
  usedByConsumer: boolean;
  deleted: boolean;
  expiry: AbortController | null;
}

interface ConsumerState {
  readonly queue: QueueState;
  readonly prefetch: number;
  readonly session: MemorySession;
  readonly handlers: MemoryConsumerHandlers;
  inFlight: number;
}

interface ExchangeState {
  readonly type: ExchangeType;
  readonly durable: boolean;
  bindings: { queue: string; key: string }[];
}

interface Held {
  readonly queue: QueueState;
  readonly message: MemoryMessage;
  readonly consumer: ConsumerState | null;
}

/** The in-process broker behind `memory://`; close it to stop its timers. */
export class MemoryBroker implements Disposable {
  #clock: Clock;
  #queues = new Map<string, QueueState>();
  #exchanges = new Map<string, ExchangeState>();
  #timers = new Set<AbortController>();
  #sessions = new Set<MemorySession>();
  #nextTag = 1;
  #closed = false;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    // Like RabbitMQ, start with the standard exchanges.
    for (const type of ["direct", "fanout", "topic"] as const) {
      this.#exchanges.set(`amq.${type}`, { type, durable: true, bindings: [] });
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Epoch ms from the broker's clock. */
  now(): number {
    return this.#clock.now();
  }

  /** Start a session: what one transport holds (consumers, unsettled messages). */
  openSession(): MemorySession {
    this.#assertOpen("open session");
    const session = new MemorySession(this, this.#internals());
    this.#sessions.add(session);
    return session;
  }

  /**
   * Declare a queue; idempotent with the same options.
   * @throws {BrokerError} when it exists with different options
   */
  assertQueue(name: string, options: MemoryQueueOptions): void {
    this.#assertOpen(`declare queue "${name}"`);
    const existing = this.#queues.get(name);
    if (existing) {
      if (optionsKey(existing.options) !== optionsKey(options)) {
        throw new BrokerError(
          `Cannot declare queue "${name}": it exists with different options (${
            optionsKey(existing.options)
          })`,
          { recoverable: false },
        );
      }
      this.#touch(existing);
      return;
    }
    const queue: QueueState = {
      name,
      options: { ...options },
      ready: [],
      consumers: [],
      next: 0,
      usedByConsumer: false,
      deleted: false,
      expiry: null,
    };
    this.#queues.set(name, queue);
    this.#touch(queue);
  }

  /**
   * Declare an exchange; idempotent with the same type.
   * @throws {BrokerError} when it exists with another type
   */
  assertExchange(name: string, type: ExchangeType, durable: boolean): void {
    this.#assertOpen(`declare exchange "${name}"`);
    if (name === "" || name.startsWith("amq.")) {
      throw new BrokerError(`Cannot declare exchange "${name}": the name is reserved`, {
        recoverable: false,
      });
    }
    const existing = this.#exchanges.get(name);
    if (existing) {
      if (existing.type !== type || existing.durable !== durable) {
        throw new BrokerError(
          `Cannot declare exchange "${name}": it exists as ${existing.type} (durable ${existing.durable})`,
          { recoverable: false },
        );
      }
      return;
    }
    this.#exchanges.set(name, { type, durable, bindings: [] });
  }

  /**
   * Route `exchange` messages with `key` into `queue`; idempotent.
   * @throws {BrokerError} when the queue or the exchange does not exist
   */
  bindQueue(queue: string, exchange: string, key: string): void {
    const action = `bind queue "${queue}" to exchange "${exchange}"`;
    this.#assertOpen(action);
    const state = this.#exchanges.get(exchange);
    if (!state) throw notFound(action, `no exchange "${exchange}"`);
    if (!this.#queues.has(queue)) throw notFound(action, `no queue "${queue}"`);
    if (!state.bindings.some((b) => b.queue === queue && b.key === key)) {
      state.bindings.push({ queue, key });
    }
  }

  /** Delete a queue with its messages; its consumers are cancelled. Missing queues are fine. */
  deleteQueue(name: string): void {
    this.#assertOpen(`delete queue "${name}"`);
    const queue = this.#queues.get(name);
    if (queue) this.#removeQueue(queue);
  }

  /** Ready messages and consumers of a queue, or null when it does not exist. */
  inspectQueue(name: string): QueueInfo | null {
    this.#assertOpen(`inspect queue "${name}"`);
    const queue = this.#queues.get(name);
    if (!queue) return null;
    this.#dropExpired(queue);
    return { messages: queue.ready.length, consumers: queue.consumers.length };
  }

  /**
   * Drop every ready message of a queue and return how many.
   * @throws {BrokerError} when the queue does not exist
   */
  purgeQueue(name: string): number {
    const action = `purge queue "${name}"`;
    this.#assertOpen(action);
    const queue = this.#queues.get(name);
    if (!queue) throw notFound(action, "no such queue");
    this.#dropExpired(queue);
    const count = queue.ready.length;
    queue.ready = [];
    return count;
  }

  /**
   * Route a message now, or after `delayMs` held by the broker (default
   * exchange only). An unroutable message is refused, as an AMQP mandatory
   * publish is; a delayed one is checked when published and dropped if its
   * queue is gone when the delay ends (as RabbitMQ's dead-lettering does).
   * @throws {BrokerError} when no queue would receive the message, or the exchange does not exist
   */
  publish(
    exchange: string,
    routingKey: string,
    body: Uint8Array,
    props: MessageProps,
    delayMs = 0,
  ): void {
    const target = exchange === "" ? `queue "${routingKey}"` : `exchange "${exchange}"`;
    const action = `publish to ${target}`;
    this.#assertOpen(action);
    const queues = this.#route(exchange, routingKey, action);
    if (queues.length === 0) {
      throw new UnroutableError(
        `Cannot ${action}: unroutable (no queue${exchange === "" ? " by that name" : " bound"})`,
        routingKey,
      );
    }
    const stored = { body: body.slice(), props: structuredClone(props) };
    if (delayMs > 0) {
      this.#schedule(delayMs, () => {
        const queue = this.#queues.get(routingKey);
        if (queue) this.#enqueue(queue, stored.body, stored.props);
      });
      return;
    }
    for (const queue of queues) this.#enqueue(queue, stored.body, stored.props);
  }

  /** Stop every timer, end every consumer and drop every message. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) timer.abort();
    this.#timers.clear();
    for (const queue of this.#queues.values()) {
      queue.deleted = true;
      const consumers = queue.consumers;
      queue.consumers = [];
      for (const consumer of consumers) {
        consumer.handlers.cancelled(
          new BrokerError(`Cannot consume queue "${queue.name}": the memory broker closed`, {
            recoverable: false,
          }),
        );
      }
    }
    for (const session of this.#sessions) session.close();
    this.#queues.clear();
    this.#exchanges.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #internals(): BrokerInternals {
    return {
      queue: (name) => this.#queues.get(name),
      tag: () => this.#nextTag++,
      dispatch: (queue) => this.#dispatch(queue),
      touch: (queue) => this.#touch(queue),
      removeQueue: (queue) => this.#removeQueue(queue),
      dropExpired: (queue) => this.#dropExpired(queue),
      forget: (session) => this.#sessions.delete(session),
      assertOpen: (action) => this.#assertOpen(action),
    };
  }

  #assertOpen(action: string): void {
    if (this.#closed) {
      throw new BrokerError(`Cannot ${action}: the memory broker is closed`, {
        recoverable: false,
      });
    }
  }

  #route(exchange: string, routingKey: string, action: string): QueueState[] {
    if (exchange === "") {
      const queue = this.#queues.get(routingKey);
      return queue ? [queue] : [];
    }
    const state = this.#exchanges.get(exchange);
    if (!state) throw notFound(action, "no such exchange");
    const names = new Set<string>();
    for (const binding of state.bindings) {
      if (bindingMatches(state.type, binding.key, routingKey)) names.add(binding.queue);
    }
    const queues: QueueState[] = [];
    for (const name of names) {
      const queue = this.#queues.get(name);
      if (queue) queues.push(queue);
    }
    return queues;
  }

  #enqueue(queue: QueueState, body: Uint8Array, props: MessageProps): void {
    const ttl = queue.options.messageTtlMs;
    queue.ready.push({
      body,
      props,
      redelivered: false,
      expiresAt: ttl === null ? null : this.#clock.now() + ttl,
    });
    this.#dispatch(queue);
  }

  /** Hand ready messages to consumers with room, round-robin. */
  #dispatch(queue: QueueState): void {
    if (queue.deleted) return;
    this.#dropExpired(queue);
    const consumers = queue.consumers;
    while (queue.ready.length > 0 && consumers.length > 0) {
      let chosen: ConsumerState | null = null;
      for (let i = 0; i < consumers.length; i++) {
        const index = (queue.next + i) % consumers.length;
        const consumer = consumers[index];
        if (consumer.prefetch === 0 || consumer.inFlight < consumer.prefetch) {
          chosen = consumer;
          queue.next = (index + 1) % consumers.length;
          break;
        }
      }
      if (!chosen) return;
      const message = queue.ready.shift() as MemoryMessage;
      const tag = this.#nextTag++;
      chosen.inFlight++;
      chosen.session.hold(tag, { queue, message, consumer: chosen });
      chosen.handlers.deliver(tag, message);
    }
  }

  #dropExpired(queue: QueueState): void {
    if (queue.options.messageTtlMs === null) return;
    const now = this.#clock.now();
    while (queue.ready.length > 0 && (queue.ready[0].expiresAt ?? Infinity) <= now) {
      queue.ready.shift();
    }
  }

  /** Note a use of the queue: restart its `expiresMs` countdown while it has no consumers. */
  #touch(queue: QueueState): void {
    queue.expiry?.abort();
    queue.expiry = null;
    const expiresMs = queue.options.expiresMs;
    if (expiresMs === null || queue.consumers.length > 0 || queue.deleted) return;
    queue.expiry = this.#schedule(expiresMs, () => {
      if (queue.consumers.length === 0 && !queue.deleted) this.#removeQueue(queue);
    });
  }

  #removeQueue(queue: QueueState): void {
    if (queue.deleted) return;
    queue.deleted = true;
    queue.expiry?.abort();
    this.#timers.delete(queue.expiry as AbortController);
    this.#queues.delete(queue.name);
    for (const exchange of this.#exchanges.values()) {
      exchange.bindings = exchange.bindings.filter((b) => b.queue !== queue.name);
    }
    const consumers = queue.consumers;
    queue.consumers = [];
    queue.ready = [];
    for (const consumer of consumers) {
      consumer.session.forgetConsumer(consumer);
      consumer.handlers.cancelled(
        new BrokerError(`Cannot consume queue "${queue.name}": the queue was deleted`, {
          recoverable: false,
        }),
      );
    }
  }

  #schedule(ms: number, run: () => void): AbortController {
    const controller = new AbortController();
    this.#timers.add(controller);
    this.#clock.sleep(ms, controller.signal).then(
      () => {
        this.#timers.delete(controller);
        if (!this.#closed) run();
      },
      () => this.#timers.delete(controller),
    );
    return controller;
  }
}

interface BrokerInternals {
  queue(name: string): QueueState | undefined;
  tag(): number;
  dispatch(queue: QueueState): void;
  touch(queue: QueueState): void;
  removeQueue(queue: QueueState): void;
  dropExpired(queue: QueueState): void;
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
  #held = new Map<number, Held>();
  #consumers = new Set<ConsumerState>();
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
    if (!queue) throw notFound(action, "no such queue");
    const consumer: ConsumerState = { queue, prefetch, session: this, handlers, inFlight: 0 };
    queue.consumers.push(consumer);
    queue.usedByConsumer = true;
    this.#consumers.add(consumer);
    this.#internals.touch(queue);
    queueMicrotask(() => this.#internals.dispatch(queue));
    return { cancel: () => this.#cancel(consumer) };
  }

  /**
   * Take the first ready message (basic.get without auto-ack), or null.
   * @throws {BrokerError} when the queue does not exist
   */
  get(queueName: string): { tag: number; message: MemoryMessage } | null {
    const action = `get from queue "${queueName}"`;
    this.#assertOpen(action);
    const queue = this.#internals.queue(queueName);
    if (!queue) throw notFound(action, "no such queue");
    this.#internals.touch(queue);
    this.#internals.dropExpired(queue);
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
    this.#internals.dispatch(held.queue);
    return true;
  }

  /** Put a held message back at the head of its queue, redelivered; false when not held. */
  requeue(tag: number): boolean {
    const held = this.#release(tag);
    if (!held) return false;
    if (!held.queue.deleted) {
      held.message.redelivered = true;
      held.queue.ready.unshift(held.message);
      this.#internals.dispatch(held.queue);
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
    const touched = new Set<QueueState>();
    for (const { queue, message } of held) {
      if (queue.deleted) continue;
      message.redelivered = true;
      queue.ready.unshift(message);
      touched.add(queue);
    }
    this.#internals.forget(this);
    if (!this.#broker.closed) { for (const queue of touched) this.#internals.dispatch(queue); }
  }

  /** Broker side: record a message delivered to this session. */
  hold(tag: number, held: Held): void {
    this.#held.set(tag, held);
  }

  /** Broker side: the consumer's queue is gone. */
  forgetConsumer(consumer: ConsumerState): void {
    this.#consumers.delete(consumer);
  }

  #release(tag: number): Held | undefined {
    const held = this.#held.get(tag);
    if (!held) return undefined;
    this.#held.delete(tag);
    if (held.consumer) held.consumer.inFlight--;
    return held;
  }

  #cancel(consumer: ConsumerState): void {
    if (!this.#consumers.delete(consumer)) return;
    const queue = consumer.queue;
    const index = queue.consumers.indexOf(consumer);
    if (index < 0) return;
    queue.consumers.splice(index, 1);
    if (queue.next > index) queue.next--;
    if (queue.consumers.length > 0) queue.next %= queue.consumers.length;
    else queue.next = 0;
    if (queue.options.autoDelete && queue.consumers.length === 0 && queue.usedByConsumer) {
      if (!this.#broker.closed) this.#internals.removeQueue(queue);
      return;
    }
    if (!this.#broker.closed) this.#internals.touch(queue);
  }

  #assertOpen(action: string): void {
    this.#internals.assertOpen(action);
    if (this.#closed) {
      throw new BrokerError(`Cannot ${action}: the transport is closed`, { recoverable: false });
    }
  }
}

function notFound(action: string, state: string): BrokerError {
  return new BrokerError(`Cannot ${action}: ${state}`, { recoverable: false });
}

function optionsKey(options: MemoryQueueOptions): string {
  const { durable, autoDelete, expiresMs, messageTtlMs, type, deliveryLimit } = options;
  return JSON.stringify({ durable, autoDelete, expiresMs, messageTtlMs, type, deliveryLimit });
}

function bindingMatches(type: ExchangeType, pattern: string, routingKey: string): boolean {
  if (type === "fanout") return true;
  if (type === "direct") return pattern === routingKey;
  return topicMatches(pattern.split("."), 0, routingKey.split("."), 0);
}

/** AMQP topic matching: `*` is exactly one word, `#` zero or more. */
function topicMatches(pattern: string[], p: number, words: string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const part = pattern[p];
  if (part === "#") {
    for (let skip = w; skip <= words.length; skip++) {
      if (topicMatches(pattern, p + 1, words, skip)) return true;
    }
    return false;
  }
  if (w === words.length) return false;
  if (part !== "*" && part !== words[w]) return false;
  return topicMatches(pattern, p + 1, words, w + 1);
}
