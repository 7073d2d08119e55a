/**
 * The embedded `memory://` broker: queues, streams, exchanges and bindings
 * inside one process, with AMQP's semantics where dts relies on them
 * (prefetch, round-robin, redelivery, broker-held delays, unroutable
 * rejections). Whoever needs one creates it and passes it in; there is no
 * global broker.
 *
 * Queues live in `memory_queue.ts`, streams in `memory_stream.ts`, exchanges
 * and bindings in `memory_routing.ts`, what one transport holds in
 * `memory_session.ts`. A name is a queue or a stream, never both: as on
 * RabbitMQ, a stream is a kind of queue, so routing, deletion and inspection
 * treat them alike.
 * @module
 */

import { type Clock, systemClock } from "../../clock.ts";
import { BrokerError, UnroutableError } from "../../errors.ts";
import {
  MemoryQueue,
  type MemoryQueueOptions,
  notFoundError,
  queueOptionsKey,
} from "./memory_queue.ts";
import { type ExchangeType, MemoryExchanges } from "./memory_routing.ts";
import { type BrokerInternals, MemorySession } from "./memory_session.ts";
import {
  MemoryStream,
  type MemoryStreamOptions,
  type MemoryStreamReader,
  streamOptionsKey,
} from "./memory_stream.ts";
import type { MessageProps, QueueInfo, StreamStart } from "../transport.ts";

// The parameter types of `assertQueue()` and `assertStream()`, for the broker's callers.
export type { MemoryQueueOptions } from "./memory_queue.ts";
export type { MemoryStreamOptions } from "./memory_stream.ts";

/** Where a message published to one name goes: a queue or a stream. */
type Target = MemoryQueue | MemoryStream;

/** The in-process broker behind `memory://`; close it to stop its timers. */
export class MemoryBroker implements Disposable {
  #clock: Clock;
  #queues = new Map<string, MemoryQueue>();
  #streams = new Map<string, MemoryStream>();
  #exchanges = new MemoryExchanges();
  #timers = new Set<AbortController>();
  #sessions = new Set<MemorySession>();
  #nextTag = 1;
  #takeTag = (): number => this.#nextTag++;
  #closed = false;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
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
    if (this.#streams.has(name)) throw kindError("queue", name);
    const existing = this.#queues.get(name);
    if (existing) {
      if (queueOptionsKey(existing.options) !== queueOptionsKey(options)) {
        throw new BrokerError(
          `Cannot declare queue "${name}": it exists with different options (${
            queueOptionsKey(existing.options)
          })`,
          { recoverable: false },
        );
      }
      this.#touch(existing);
      return;
    }
    const queue = new MemoryQueue(name, options, this.#clock, this.#takeTag);
    this.#queues.set(name, queue);
    this.#touch(queue);
  }

  /**
   * Declare a stream; idempotent with the same options.
   * @throws {BrokerError} when it exists with different options, or a queue has its name
   */
  assertStream(name: string, options: MemoryStreamOptions): void {
    this.#assertOpen(`declare stream "${name}"`);
    if (this.#queues.has(name)) throw kindError("stream", name);
    const existing = this.#streams.get(name);
    if (existing) {
      if (streamOptionsKey(existing.options) !== streamOptionsKey(options)) {
        throw new BrokerError(
          `Cannot declare stream "${name}": it exists with different options (${
            streamOptionsKey(existing.options)
          })`,
          { recoverable: false },
        );
      }
      return;
    }
    this.#streams.set(name, new MemoryStream(name, options, this.#clock));
  }

  /**
   * Attach a reader to a stream now (`next` starts after the last entry
   * appended so far); `onEnd` runs once when the reader ends.
   * @throws {BrokerError} when the stream does not exist
   */
  readStream(name: string, from: StreamStart, onEnd?: () => void): MemoryStreamReader {
    const action = `read stream "${name}"`;
    this.#assertOpen(action);
    const stream = this.#streams.get(name);
    if (!stream) {
      throw notFoundError(action, this.#queues.has(name) ? "it is a queue" : "no such stream");
    }
    return stream.attach(from, onEnd);
  }

  /**
   * Declare an exchange; idempotent with the same type.
   * @throws {BrokerError} when it exists with another type
   */
  assertExchange(name: string, type: ExchangeType, durable: boolean): void {
    this.#assertOpen(`declare exchange "${name}"`);
    this.#exchanges.declare(name, type, durable);
  }

  /**
   * Route `exchange` messages with `key` into `queue`; idempotent.
   * @throws {BrokerError} when the queue or the exchange does not exist
   */
  bindQueue(queue: string, exchange: string, key: string): void {
    const action = `bind queue "${queue}" to exchange "${exchange}"`;
    this.#assertOpen(action);
    if (!this.#exchanges.has(exchange)) throw notFoundError(action, `no exchange "${exchange}"`);
    if (!this.#queues.has(queue) && !this.#streams.has(queue)) {
      throw notFoundError(action, `no queue "${queue}"`);
    }
    this.#exchanges.bind(queue, exchange, key);
  }

  /**
   * Delete a queue with its messages, or a stream with its entries; its
   * consumers are cancelled, its readers fail. Missing queues are fine.
   */
  deleteQueue(name: string): void {
    this.#assertOpen(`delete queue "${name}"`);
    const queue = this.#queues.get(name);
    if (queue) this.#removeQueue(queue);
    const stream = this.#streams.get(name);
    if (stream) this.#removeStream(stream);
  }

  /**
   * Ready messages and consumers of a queue (entries kept and readers of a
   * stream), or null when it does not exist.
   */
  inspectQueue(name: string): QueueInfo | null {
    this.#assertOpen(`inspect queue "${name}"`);
    const stream = this.#streams.get(name);
    if (stream) return { messages: stream.length, consumers: stream.readers };
    const queue = this.#queues.get(name);
    if (!queue) return null;
    queue.dropExpired();
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
    // RabbitMQ refuses it too: a stream is trimmed by age and size only.
    if (!queue && this.#streams.has(name)) throw notFoundError(action, "it is a stream");
    if (!queue) throw notFoundError(action, "no such queue");
    queue.dropExpired();
    const count = queue.ready.length;
    queue.ready = [];
    return count;
  }

  /**
   * Route a message now, or after `delayMs` held by the broker (default
   * exchange only). A stream appends it. An unroutable message is refused,
   * as an AMQP mandatory publish is; a delayed one is checked when published
   * and dropped if its queue is gone when the delay ends (as RabbitMQ's
   * dead-lettering does). With `mandatory: false` an unroutable message is
   * dropped without a word instead.
   * @throws {BrokerError} when no queue would receive the message, or the exchange does not exist
   */
  publish(
    exchange: string,
    routingKey: string,
    body: Uint8Array,
    props: MessageProps,
    delayMs = 0,
    mandatory = true,
  ): void {
    const target = exchange === "" ? `queue "${routingKey}"` : `exchange "${exchange}"`;
    const action = `publish to ${target}`;
    this.#assertOpen(action);
    const targets = this.#route(exchange, routingKey, action);
    if (targets.length === 0) {
      if (!mandatory) return;
      throw new UnroutableError(
        `Cannot ${action}: unroutable (no queue${exchange === "" ? " by that name" : " bound"})`,
        routingKey,
      );
    }
    const stored = { body: body.slice(), props: structuredClone(props) };
    if (delayMs > 0) {
      this.#schedule(delayMs, () => {
        for (const target of this.#route("", routingKey, action)) put(target, stored);
      });
      return;
    }
    for (const target of targets) put(target, stored);
  }

  /** Stop every timer, end every consumer and stream reader, and drop every message. */
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
    for (const stream of this.#streams.values()) {
      stream.end(
        new BrokerError(`Cannot read stream "${stream.name}": the memory broker closed`, {
          recoverable: false,
        }),
      );
    }
    for (const session of this.#sessions) session.close();
    this.#queues.clear();
    this.#streams.clear();
    this.#exchanges.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #internals(): BrokerInternals {
    return {
      queue: (name) => this.#queues.get(name),
      tag: this.#takeTag,
      touch: (queue) => this.#touch(queue),
      removeQueue: (queue) => this.#removeQueue(queue),
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

  #route(exchange: string, routingKey: string, action: string): Target[] {
    const names = exchange === "" ? [routingKey] : this.#exchanges.route(exchange, routingKey);
    if (names === null) throw notFoundError(action, "no such exchange");
    const targets: Target[] = [];
    for (const name of names) {
      const target = this.#queues.get(name) ?? this.#streams.get(name);
      if (target) targets.push(target);
    }
    return targets;
  }

  /** Note a use of the queue: restart its `expiresMs` countdown while it has no consumers. */
  #touch(queue: MemoryQueue): void {
    queue.expiry?.abort();
    queue.expiry = null;
    const expiresMs = queue.options.expiresMs;
    if (expiresMs === null || queue.consumers.length > 0 || queue.deleted) return;
    queue.expiry = this.#schedule(expiresMs, () => {
      if (queue.consumers.length === 0 && !queue.deleted) this.#removeQueue(queue);
    });
  }

  #removeQueue(queue: MemoryQueue): void {
    if (queue.deleted) return;
    queue.deleted = true;
    queue.expiry?.abort();
    this.#timers.delete(queue.expiry as AbortController);
    this.#queues.delete(queue.name);
    this.#exchanges.unbindQueue(queue.name);
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

  #removeStream(stream: MemoryStream): void {
    this.#streams.delete(stream.name);
    this.#exchanges.unbindQueue(stream.name);
    stream.end(
      new BrokerError(`Cannot read stream "${stream.name}": the stream was deleted`, {
        recoverable: false,
      }),
    );
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

/** Hand a routed message to its queue, or append it to its stream. */
function put(target: Target, message: { body: Uint8Array; props: MessageProps }): void {
  if (target instanceof MemoryStream) target.append(message.body, message.props);
  else target.enqueue(message.body, message.props);
}

/** The error for declaring a queue under a stream's name, or a stream under a queue's. */
function kindError(kind: "queue" | "stream", name: string): BrokerError {
  const existing = kind === "queue" ? "stream" : "queue";
  return new BrokerError(
    `Cannot declare ${kind} "${name}": ${existing} "${name}" exists, and a name is a queue or a stream, not both`,
    { recoverable: false },
  );
}
