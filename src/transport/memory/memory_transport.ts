/**
 * `Transport` over the embedded `MemoryBroker` (`memory://`), for `dts demo`
 * and tests. Each transport is one broker session: closing it returns its
 * unsettled messages to their queues, as closing an AMQP connection does.
 * @module
 */

import { type Clock, systemClock } from "../../clock.ts";
import { BrokerError } from "../../errors.ts";
import { AsyncQueue } from "../async_queue.ts";
import type { MemoryBroker } from "./memory_broker.ts";
import { PLAIN_QUEUE_OPTIONS } from "./memory_queue.ts";
import { MemoryDelivery, type MemoryDeliveryContext } from "./memory_delivery.ts";
import type { MemoryConsumer, MemorySession } from "./memory_session.ts";
import { memoryStreamOptions, type MemoryStreamReader } from "./memory_stream.ts";
import {
  checkPrefetch,
  checkQueueOptions,
  checkTaskQueueOptions,
  delayProblem,
  toMessageProps,
} from "../message_props.ts";
import {
  type ConsumeOptions,
  type Consumer,
  deadLetterQueueName,
  type Delivery,
  type PublishOptions,
  type QueueInfo,
  type QueueOptions,
  type ReadStreamOptions,
  type StreamEntry,
  type StreamOptions,
  type TaskQueueOptions,
  type Transport,
  type TransportStatus,
} from "../transport.ts";

/** Options of a `MemoryTransport`. */
export interface MemoryTransportOptions {
  /** Source of the dead-letter timestamps. @default systemClock */
  clock?: Clock;
}

/** A connection to a `MemoryBroker`; always "connected" until closed. */
export class MemoryTransport implements Transport {
  readonly url = "memory://";
  #broker: MemoryBroker;
  #session: MemorySession;
  #context: MemoryDeliveryContext;
  #listeners = new Set<(status: TransportStatus) => void>();
  #stops = new Set<() => void>();
  #closed = false;

  constructor(broker: MemoryBroker, options: MemoryTransportOptions = {}) {
    this.#broker = broker;
    this.#session = broker.openSession();
    this.#context = { broker, session: this.#session, clock: options.clock ?? systemClock };
  }

  get connected(): boolean {
    return !this.#closed && !this.#broker.closed;
  }

  assertTaskQueue(queue: string, options: TaskQueueOptions = {}): Promise<void> {
    return this.#run(() => {
      const type = options.type ?? "classic";
      checkTaskQueueOptions(queue, options);
      this.#broker.assertQueue(queue, {
        ...PLAIN_QUEUE_OPTIONS,
        type,
        deliveryLimit: type === "quorum" ? options.deliveryLimit ?? null : null,
        maxPriority: type === "classic" ? options.maxPriority ?? null : null,
      });
      this.#broker.assertQueue(deadLetterQueueName(queue), PLAIN_QUEUE_OPTIONS);
    });
  }

  async assertQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    checkQueueOptions(queue, options);
    return await this.#run(() =>
      this.#broker.assertQueue(queue, {
        ...PLAIN_QUEUE_OPTIONS,
        durable: options.durable ?? true,
        autoDelete: options.autoDelete ?? false,
        expiresMs: options.expiresMs ?? null,
        messageTtlMs: options.messageTtlMs ?? null,
        maxLength: options.maxLength ?? null,
        singleActiveConsumer: options.singleActiveConsumer ?? false,
      })
    );
  }

  assertExchange(
    exchange: string,
    type: "direct" | "fanout" | "topic",
    options: { durable?: boolean } = {},
  ): Promise<void> {
    return this.#run(() => this.#broker.assertExchange(exchange, type, options.durable ?? true));
  }

  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    return this.#run(() => this.#broker.bindQueue(queue, exchange, routingKey));
  }

  deleteQueue(queue: string): Promise<void> {
    return this.#run(() => this.#broker.deleteQueue(queue));
  }

  inspectQueue(queue: string): Promise<QueueInfo | null> {
    return this.#run(() => this.#broker.inspectQueue(queue));
  }

  purgeQueue(queue: string): Promise<number> {
    return this.#run(() => this.#broker.purgeQueue(queue));
  }

  publish(routingKey: string, body: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const exchange = options.exchange ?? "";
    const delayMs = options.delayMs ?? 0;
    const problem = delayProblem(exchange, delayMs);
    if (problem !== null) return Promise.reject(problem);
    return this.#run(() =>
      this.#broker.publish(
        exchange,
        routingKey,
        body,
        toMessageProps(options),
        delayMs,
        options.mandatory ?? true,
      )
    );
  }

  consume(queue: string, options: ConsumeOptions): Consumer {
    checkPrefetch(options.prefetch);
    let prefetch = options.prefetch;
    // Each iteration is one broker consumer; a new prefetch applies to every live one.
    const live = new Set<MemoryConsumer>();
    return {
      [Symbol.asyncIterator]: () => this.#consume(queue, { ...options, prefetch }, live),
      setPrefetch: (next) => {
        try {
          checkPrefetch(next);
        } catch (error) {
          return Promise.reject(error);
        }
        prefetch = next;
        for (const consumer of live) consumer.setPrefetch(next);
        return Promise.resolve();
      },
    };
  }

  assertStream(name: string, options: StreamOptions): Promise<void> {
    return this.#run(() => this.#broker.assertStream(name, memoryStreamOptions(name, options)));
  }

  readStream(name: string, options: ReadStreamOptions): AsyncIterable<StreamEntry> {
    return { [Symbol.asyncIterator]: () => this.#readStream(name, options) };
  }

  get(queue: string): Promise<Delivery | null> {
    return this.#run(() => {
      const got = this.#session.get(queue);
      return got ? new MemoryDelivery(this.#context, queue, got.tag, got.message) : null;
    });
  }

  onStatus(listener: (status: TransportStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const stop of [...this.#stops]) stop();
    this.#session.close();
    for (const listener of this.#listeners) listener({ type: "closed" });
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #run<T>(operation: () => T): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new BrokerError("Cannot use the memory transport: it is closed", { recoverable: false }),
      );
    }
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #consume(
    queue: string,
    options: ConsumeOptions,
    live: Set<MemoryConsumer>,
  ): AsyncIterableIterator<Delivery> {
    const signal = options.signal;
    let consumer: MemoryConsumer | null = null;
    const stop = (): void => {
      this.#stops.delete(stop);
      signal?.removeEventListener("abort", onAbort);
      if (consumer !== null) live.delete(consumer);
      consumer?.cancel();
      consumer = null;
      // Read by nobody yet: give them back now rather than on close.
      for (const delivery of stream.takeBuffered()) void delivery.release().catch(() => {});
    };
    const onAbort = (): void => {
      stop();
      stream.end();
    };
    const stream = new AsyncQueue<MemoryDelivery>(stop);
    if (this.#closed || signal?.aborted) {
      stream.end();
      return stream;
    }
    try {
      consumer = this.#session.consume(queue, options.prefetch, {
        deliver: (tag, message) => {
          const delivery = new MemoryDelivery(this.#context, queue, tag, message);
          if (!stream.push(delivery)) void delivery.release().catch(() => {});
        },
        cancelled: (error) => {
          if (consumer !== null) live.delete(consumer);
          consumer = null;
          stop();
          stream.fail(error);
        },
      });
      live.add(consumer);
    } catch (error) {
      stream.fail(error as Error);
      return stream;
    }
    this.#stops.add(onAbort);
    signal?.addEventListener("abort", onAbort, { once: true });
    return stream;
  }

  /**
   * One reading of a stream. It attaches on its first `next()`, not before:
   * `from: "next"` then means "appended once the caller started reading",
   * which is what a caller that creates the iterator early expects.
   */
  #readStream(name: string, options: ReadStreamOptions): AsyncIterator<StreamEntry> {
    const signal = options.signal;
    let reader: MemoryStreamReader | null = null;
    // Attach once at most: not after return(), nor again after a failed attach.
    let started = false;
    const stop = (): void => {
      started = true;
      reader?.end();
    };
    const detached = (): void => {
      this.#stops.delete(stop);
      signal?.removeEventListener("abort", stop);
    };
    const attach = (): MemoryStreamReader | null => {
      if (this.#closed || signal?.aborted) return null;
      const attached = this.#broker.readStream(name, options.from, detached);
      this.#stops.add(stop);
      signal?.addEventListener("abort", stop, { once: true });
      return attached;
    };
    return {
      next: (): Promise<IteratorResult<StreamEntry>> => {
        if (!started) {
          started = true;
          try {
            reader = attach();
          } catch (error) {
            return Promise.reject(error);
          }
        }
        return reader?.next() ?? Promise.resolve({ done: true, value: undefined });
      },
      return: (): Promise<IteratorResult<StreamEntry>> => {
        stop();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
