/**
 * `Transport` over RabbitMQ with amqplib; the only module that imports it.
 *
 * Channels: one confirm channel publishes (mandatory, so an unroutable
 * message is an error, never a silent loss); one channel per consumer (its
 * own prefetch); one for declarations and purges; one for basic.get; a
 * throwaway one per `inspectQueue` (a 404 closes the channel it happens on).
 *
 * Reconnect: a drop we did not ask for emits `disconnected`, then retries
 * with capped, jittered exponential backoff (`reconnecting`), re-declares
 * every queue, exchange and binding declared through this transport, reopens
 * the publish channel and resumes every consumer, and emits `connected`.
 * Publishes in flight when the connection drops reject with a recoverable
 * `BrokerError` (the caller decides whether to retry); calls made while
 * disconnected wait for the reconnect, at most `reconnectWaitMs`.
 *
 * Settling a delivery whose channel has died rejects with a recoverable
 * `BrokerError` and never throws synchronously: the broker already put the
 * message back and will deliver it again.
 *
 * The pieces: `amqp_connection.ts` (connect, reconnect, status),
 * `amqp_admin.ts` + `amqp_topology.ts` (declarations and their replay),
 * `amqp_publisher_slot.ts` + `amqp_publisher.ts` (confirmed publishes),
 * `amqp_consumer.ts` + `amqp_delivery.ts` (consumers and settling),
 * `amqp_get_channel.ts` (basic.get).
 * @module
 */

import amqp from "amqplib";
import type { ChannelModel, Message } from "amqplib";
import { type Clock, systemClock } from "../../clock.ts";
import { BrokerUnreachableError, toError, UsageError } from "../../errors.ts";
import { redactUrl } from "../../log/redact.ts";
import { brokerUrlsProblem, splitBrokerUrls } from "../broker_urls.ts";
import { AmqpAdmin } from "./amqp_admin.ts";
import { AmqpConnection } from "./amqp_connection.ts";
import { AmqpConsumer, type ConsumerHost, type StreamPosition } from "./amqp_consumer.ts";
import { AmqpDelivery } from "./amqp_delivery.ts";
import { describeConnectError, isNotReachableYet } from "./amqp_connect_errors.ts";
import { backoffDelayMs } from "../../retry/backoff.ts";
import { brokerError } from "./amqp_errors.ts";
import { GetChannel } from "./amqp_get_channel.ts";
import { toBuffer, toPublishOptions } from "./amqp_properties.ts";
import { PublisherSlot } from "./amqp_publisher_slot.ts";
import {
  bindingDeclaration,
  delayLadderDeclaration,
  delayOutDeclaration,
  exchangeDeclaration,
  queueDeclaration,
  streamDeclaration,
  taskQueueDeclaration,
} from "./amqp_topology.ts";
import { delayRoute } from "./delay_levels.ts";
import { checkPrefetch, checkQueueOptions, delayProblem } from "../message_props.ts";
import type {
  ConsumeOptions,
  Consumer,
  Delivery,
  PublishOptions,
  QueueInfo,
  QueueOptions,
  ReadStreamOptions,
  StreamEntry,
  StreamOptions,
  TaskQueueOptions,
  Transport,
  TransportStatus,
} from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

/** Options of `AmqpTransport.connect()`. */
export interface AmqpTransportOptions {
  /** AMQP heartbeat, unless the URL sets `?heartbeat=`. @default 10 */
  heartbeatS?: number;
  /** Give up one connection attempt after this long. @default 5000 */
  connectTimeoutMs?: number;
  /** How long a call made while disconnected waits for the reconnect. @default 30000 */
  reconnectWaitMs?: number;
  /** First reconnect delay, doubled per attempt. @default 100 */
  reconnectMinMs?: number;
  /** Cap of the reconnect delay. @default 2000 (a restarted broker is found within about 2 s) */
  reconnectMaxMs?: number;
  /** Shown by `rabbitmqctl list_connections client_properties`. @default `dts-<uuid>` */
  connectionName?: string;
  /** @default systemClock */
  clock?: Clock;
  /** Source of the reconnect jitter. @default Math.random */
  random?: () => number;
  /**
   * Keep trying the first connection this long while the broker is not
   * reachable yet (workers start before brokers). @default 0: fail at once
   */
  retryConnectMs?: number;
  /** Stops the first connection's retries. */
  signal?: AbortSignal;
  /** Where reconnects and dropped connections are logged. @default nothing */
  onLog?: TransportLog;
}

const noop = (): void => {};

/** The URL a single-node error is about (a failover list's errors name their nodes themselves). */
/** Stream entries in flight to one reader at once (RabbitMQ requires a prefetch for streams). */
const STREAM_PREFETCH = 100;
/** The header RabbitMQ puts each stream entry's offset in. */
const STREAM_OFFSET_HEADER = "x-stream-offset";

function firstUrl(spec: string): string {
  return splitBrokerUrls(spec)[0] ?? spec;
}

/** A RabbitMQ connection that reconnects by itself; see the module notes. */
export class AmqpTransport implements Transport {
  /** The broker URL with its password shown as `***`. */
  readonly url: string;
  /** The `connection_name` client property, to find this connection on the broker. */
  readonly connectionName: string;
  #log: TransportLog;
  #connection: AmqpConnection;
  #publisher: PublisherSlot;
  #admin: AmqpAdmin;
  #getChannel: GetChannel;
  #consumers = new Set<AmqpConsumer>();
  #closed: Promise<void> | null = null;
  #host: ConsumerHost;

  private constructor(url: string, options: AmqpTransportOptions) {
    this.url = redactUrl(url);
    this.connectionName = options.connectionName ?? `dts-${crypto.randomUUID()}`;
    const clock = options.clock ?? systemClock;
    this.#log = options.onLog ?? noop;
    this.#connection = new AmqpConnection({
      connect: amqp.connect,
      rawUrls: splitBrokerUrls(url),
      url: this.url,
      connectionName: this.connectionName,
      heartbeatS: options.heartbeatS ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      reconnectWaitMs: options.reconnectWaitMs ?? 30_000,
      reconnectMinMs: options.reconnectMinMs ?? 100,
      reconnectMaxMs: options.reconnectMaxMs ?? 2000,
      clock,
      random: options.random ?? Math.random,
      log: this.#log,
      prepare: (conn) => this.#prepare(conn),
      dropped: () => this.#dropped(),
    });
    this.#admin = new AmqpAdmin(this.#connection, this.#log);
    this.#publisher = new PublisherSlot(this.#connection, (exchange, routingKey) => {
      // Unroutable through the default exchange: the queue was deleted meanwhile.
      if (exchange === "") this.#admin.forgetDeclared(routingKey);
    });
    this.#host = {
      slots: new Set(),
      liveConnection: () => this.#connection.current,
      forget: (consumer) => this.#consumers.delete(consumer),
      forgetDeclared: (queue) => this.#admin.forgetDeclared(queue),
      publish: (routingKey, body, publishOptions) => this.publish(routingKey, body, publishOptions),
      clock,
      log: this.#log,
    };
    this.#getChannel = new GetChannel(this.#host.slots);
  }

  /**
   * Connect to `url` (`amqp://` or `amqps://`).
   * @throws {BrokerUnreachableError} when the first connection fails (refused, DNS, auth, TLS, timeout)
   * @throws {UsageError} when the URL cannot be parsed
   */
  static async connect(url: string, options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
    const problem = brokerUrlsProblem(url);
    if (problem !== null) {
      throw new UsageError(`Cannot connect to broker "${redactUrl(url)}": the setting ${problem}`);
    }
    const transport = new AmqpTransport(url, options);
    try {
      await transport.#openRetrying(url, options);
    } catch (error) {
      await transport.close();
      if (error instanceof UsageError) throw error;
      const cause = toError(error);
      throw new BrokerUnreachableError(
        `Cannot connect to broker "${transport.url}": ${
          describeConnectError(cause, firstUrl(url))
        }`,
        { cause },
      );
    }
    return transport;
  }

  /**
   * The first connection; with `retryConnectMs`, a broker that is not
   * reachable yet is tried again with the reconnect backoff until then.
   */
  async #openRetrying(url: string, options: AmqpTransportOptions): Promise<void> {
    const clock = options.clock ?? systemClock;
    const giveUpAt = clock.now() + (options.retryConnectMs ?? 0);
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#connection.open();
      } catch (error) {
        const leftMs = giveUpAt - clock.now();
        const keepTrying = isNotReachableYet(error) && leftMs > 0 && !options.signal?.aborted;
        if (!keepTrying) throw error;
        // The last try lands on the deadline itself.
        const waitMs = Math.min(
          backoffDelayMs(attempt, {
            baseMs: options.reconnectMinMs ?? 100,
            maxMs: options.reconnectMaxMs ?? 2000,
            jitter: "half",
          }, options.random),
          leftMs,
        );
        this.#log("warn", "broker not reachable yet; trying again", {
          broker: this.url,
          error: describeConnectError(error, firstUrl(url)),
          attempt: attempt + 1,
          delay_ms: waitMs,
        });
        await clock.sleep(waitMs, options.signal).catch(() => {
          throw error;
        });
      }
    }
  }

  get connected(): boolean {
    return this.#connection.connected;
  }

  /** The node of a failover list connected to now (or last), its password shown as `***`. */
  get node(): string {
    return this.#connection.node;
  }

  async assertTaskQueue(queue: string, options: TaskQueueOptions = {}): Promise<void> {
    await this.#admin.declare(taskQueueDeclaration(queue, options));
  }

  async assertQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    checkQueueOptions(queue, options);
    await this.#admin.declare(queueDeclaration(queue, options));
  }

  assertExchange(
    exchange: string,
    type: "direct" | "fanout" | "topic",
    options: { durable?: boolean } = {},
  ): Promise<void> {
    return this.#admin.declare(exchangeDeclaration(exchange, type, options));
  }

  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    return this.#admin.declare(bindingDeclaration(queue, exchange, routingKey));
  }

  deleteQueue(queue: string): Promise<void> {
    return this.#admin.deleteQueue(queue);
  }

  inspectQueue(queue: string): Promise<QueueInfo | null> {
    return this.#admin.inspectQueue(queue);
  }

  purgeQueue(queue: string): Promise<number> {
    return this.#admin.purgeQueue(queue);
  }

  publish(routingKey: string, body: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const exchange = options.exchange ?? "";
    const delayMs = options.delayMs ?? 0;
    const problem = delayProblem(exchange, delayMs);
    if (problem !== null) return Promise.reject(problem);
    if (delayMs > 0) return this.#publishDelayed(routingKey, body, options, delayMs);
    const publisher = this.#publisher.current;
    if (publisher !== null && publisher.open && this.#connection.connected) {
      return publisher.publish(exchange, routingKey, toBuffer(body), toPublishOptions(options));
    }
    return this.#publisher.publishSlow(exchange, routingKey, body, options);
  }

  consume(queue: string, options: ConsumeOptions): Consumer {
    checkPrefetch(options.prefetch);
    let prefetch = options.prefetch;
    // Each iteration is one broker consumer; a new prefetch applies to every live one.
    const live = new Set<AmqpConsumer>();
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<Delivery> => {
        const consumer = this.#startConsumer(queue, { ...options, prefetch });
        live.add(consumer);
        return consumer.stream;
      },
      setPrefetch: (next: number): Promise<void> => {
        try {
          checkPrefetch(next);
        } catch (error) {
          return Promise.reject(error);
        }
        prefetch = next;
        for (const consumer of live) {
          if (!this.#consumers.has(consumer)) live.delete(consumer); // stopped for good
        }
        return Promise.all([...live].map((consumer) => consumer.setPrefetch(next))).then(noop);
      },
    };
  }

  async get(queue: string): Promise<Delivery | null> {
    const action = `get from queue "${queue}"`;
    const conn = await this.#connection.whenConnected(action);
    const slot = await this.#getChannel.get(conn, action);
    let message: Message | false;
    try {
      message = await slot.channel.get(queue, { noAck: false });
    } catch (error) {
      throw brokerError(action, error);
    }
    if (message === false) return null;
    slot.unsettled++;
    return new AmqpDelivery(this.#host, slot, queue, message);
  }

  assertStream(name: string, options: StreamOptions): Promise<void> {
    return this.#admin.declare(streamDeclaration(name, options));
  }

  readStream(name: string, options: ReadStreamOptions): AsyncIterable<StreamEntry> {
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<StreamEntry> => {
        // Where a resubscription after a reconnect goes on: after the last entry read.
        let next: number | string = typeof options.from === "string"
          ? options.from
          // RabbitMQ's interval offset: units Y, M, D, h, m, s.
          : `${Math.max(1, Math.ceil(options.from.sinceMs / 1000))}s`;
        const consumer = this.#startConsumer(name, {
          prefetch: STREAM_PREFETCH,
          signal: options.signal,
          stream: { offset: () => next },
        });
        const deliveries = consumer.stream;
        return {
          next: async (): Promise<IteratorResult<StreamEntry>> => {
            for (;;) {
              const result = await deliveries.next();
              if (result.done) return result;
              const delivery = result.value;
              // Acks only let the broker send more: a stream keeps its entries.
              delivery.ack().catch(noop);
              const { [STREAM_OFFSET_HEADER]: offset, ...headers } = delivery.props.headers;
              const at = Number(offset);
              if (typeof next === "number" && at < next) continue; // sent again after a resubscribe
              next = at + 1;
              return {
                done: false,
                value: { body: delivery.body, props: { ...delivery.props, headers }, offset: at },
              };
            }
          },
          return: async (): Promise<IteratorResult<StreamEntry>> => {
            await deliveries.return();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  /** One broker consumer, started now when connected, else by the reconnect. */
  #startConsumer(
    queue: string,
    options: ConsumeOptions & { stream?: StreamPosition },
  ): AmqpConsumer {
    const consumer = new AmqpConsumer(this.#host, queue, options);
    if (consumer.stream.ended) return consumer;
    if (this.#connection.closing) {
      consumer.stream.end();
      return consumer;
    }
    this.#consumers.add(consumer);
    const conn = this.#connection.current;
    if (conn !== null && this.#connection.connected) void consumer.start(conn);
    return consumer;
  }

  onStatus(listener: (status: TransportStatus) => void): () => void {
    return this.#connection.onStatus(listener);
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #close(): Promise<void> {
    const publisher = this.#publisher.current;
    return this.#connection.close({
      stopUsers: () => {
        for (const consumer of [...this.#consumers]) consumer.stop(false);
      },
      closeChannels: () => {
        const channels = [...this.#host.slots].map((slot) => slot.close());
        if (publisher?.open) channels.push(publisher.channel.close().catch(noop));
        return channels;
      },
    });
  }

  /** A new connection: declare the topology, open the publisher and resume consumers. */
  async #prepare(conn: ChannelModel): Promise<void> {
    await this.#admin.replay(conn);
    await this.#publisher.open(conn);
    for (const consumer of this.#consumers) await consumer.start(conn);
  }

  /** The connection is gone, and with it every channel and what it declared. */
  #dropped(): void {
    this.#publisher.reset();
    this.#admin.reset();
    this.#getChannel.reset();
  }

  /** Publish into the delay ladder, which hands the message to `queue` once it has waited. */
  async #publishDelayed(
    queue: string,
    body: Uint8Array,
    options: PublishOptions,
    delayMs: number,
  ): Promise<void> {
    const route = delayRoute(queue, delayMs);
    const { delayMs: _delay, exchange: _exchange, ...rest } = options;
    await this.#admin.declare(delayLadderDeclaration());
    await this.#admin.declare(delayOutDeclaration(queue));
    return this.publish(route.routingKey, body, { ...rest, exchange: route.exchange });
  }
}
