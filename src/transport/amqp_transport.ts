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
 * @module
 */

import amqp from "amqplib";
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  Message,
  MessageProperties,
  Options,
} from "amqplib";
import { Buffer } from "node:buffer";
import { type Clock, systemClock } from "../clock.ts";
import {
  BrokerError,
  BrokerUnreachableError,
  toError,
  UnroutableError,
  UsageError,
} from "../errors.ts";
import { redactText, redactUrl } from "../log/redact.ts";
import { toAmqpHeaders } from "./amqp_headers.ts";
import { AsyncQueue } from "./async_queue.ts";
import { DELAY_QUEUE_IDLE_MS, delayBucketMs, delayQueueName } from "./delay_queue.ts";
import { checkPrefetch, deadLetterProps } from "./message_props.ts";
import {
  type ConsumeOptions,
  deadLetterQueueName,
  type Delivery,
  type MessageProps,
  type PublishOptions,
  type QueueInfo,
  type QueueOptions,
  type TaskQueueOptions,
  type Transport,
  type TransportStatus,
} from "./transport.ts";

/** A log sink: level, message, structured fields. */
export type TransportLog = (
  level: "debug" | "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

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
  /** Cap of the reconnect delay. @default 5000 */
  reconnectMaxMs?: number;
  /** Shown by `rabbitmqctl list_connections client_properties`. @default `dts-<uuid>` */
  connectionName?: string;
  /** @default systemClock */
  clock?: Clock;
  /** Source of the reconnect jitter. @default Math.random */
  random?: () => number;
  /** Where reconnects and dropped connections are logged. @default nothing */
  onLog?: TransportLog;
}

interface Declaration {
  /** Identity within the topology (latest options win). */
  readonly key: string;
  /** Identity including options: what was declared on this connection. */
  readonly id: string;
  /** Queues it concerns, so deleting a queue forgets it. */
  readonly queues: readonly string[];
  run(channel: Channel): Promise<unknown>;
}

interface Waiter {
  resolve(conn: ChannelModel): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface ConsumerHost {
  /** Every open consumer and get channel, to close them in order on `close()`. */
  slots: Set<ChannelSlot>;
  liveConnection(): ChannelModel | null;
  forget(consumer: AmqpConsumer): void;
  publish(routingKey: string, body: Uint8Array, options: PublishOptions): Promise<void>;
  clock: Clock;
  log: TransportLog;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** How long `close()` waits for channels to close cleanly before closing the connection. */
const CLOSE_CHANNELS_MS = 2000;
const noop = (): void => {};

/** A RabbitMQ connection that reconnects by itself; see the module notes. */
export class AmqpTransport implements Transport {
  /** The broker URL with its password shown as `***`. */
  readonly url: string;
  /** The `connection_name` client property, to find this connection on the broker. */
  readonly connectionName: string;
  #rawUrl: string;
  #heartbeatS: number;
  #connectTimeoutMs: number;
  #reconnectWaitMs: number;
  #reconnectMinMs: number;
  #reconnectMaxMs: number;
  #clock: Clock;
  #random: () => number;
  #log: TransportLog;
  #conn: ChannelModel | null = null;
  #connected = false;
  #publisher: Publisher | null = null;
  #publisherOpening: Promise<Publisher> | null = null;
  #admin: { conn: ChannelModel; open: boolean; channel: Promise<Channel> } | null = null;
  #getSlot: { conn: ChannelModel; slot: Promise<ChannelSlot> } | null = null;
  #topology = new Map<string, Declaration>();
  #declared = new Set<string>();
  #consumers = new Set<AmqpConsumer>();
  #waiters = new Set<Waiter>();
  #listeners = new Set<(status: TransportStatus) => void>();
  #reconnecting: Promise<void> | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;
  #stop = new AbortController();
  #host: ConsumerHost;

  private constructor(url: string, options: AmqpTransportOptions) {
    this.#rawUrl = url;
    this.url = redactUrl(url);
    this.connectionName = options.connectionName ?? `dts-${crypto.randomUUID()}`;
    this.#heartbeatS = options.heartbeatS ?? 10;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#reconnectWaitMs = options.reconnectWaitMs ?? 30_000;
    this.#reconnectMinMs = options.reconnectMinMs ?? 100;
    this.#reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#log = options.onLog ?? noop;
    this.#host = {
      slots: new Set(),
      liveConnection: () => this.#conn,
      forget: (consumer) => this.#consumers.delete(consumer),
      publish: (routingKey, body, publishOptions) => this.publish(routingKey, body, publishOptions),
      clock: this.#clock,
      log: this.#log,
    };
  }

  /**
   * Connect to `url` (`amqp://` or `amqps://`).
   * @throws {BrokerUnreachableError} when the first connection fails (refused, DNS, auth, TLS, timeout)
   * @throws {UsageError} when the URL cannot be parsed
   */
  static async connect(url: string, options: AmqpTransportOptions = {}): Promise<AmqpTransport> {
    const transport = new AmqpTransport(url, options);
    try {
      await transport.#open();
    } catch (error) {
      await transport.close();
      if (error instanceof UsageError) throw error;
      const cause = toError(error);
      throw new BrokerUnreachableError(
        `Cannot connect to broker "${transport.url}": ${redactText(cause.message)}`,
        { cause },
      );
    }
    return transport;
  }

  get connected(): boolean {
    return this.#connected;
  }

  assertTaskQueue(queue: string, options: TaskQueueOptions = {}): Promise<void> {
    const type = options.type ?? "classic";
    // Classic: durable and NO arguments, exactly what Celery declares, or
    // RabbitMQ refuses the second declaration with PRECONDITION_FAILED.
    const args: Record<string, unknown> = {};
    if (type === "quorum") {
      args["x-queue-type"] = "quorum";
      if (options.deliveryLimit !== undefined) args["x-delivery-limit"] = options.deliveryLimit;
      // Without a dead-letter target a quorum queue drops a message past its delivery limit.
      args["x-dead-letter-exchange"] = "";
      args["x-dead-letter-routing-key"] = deadLetterQueueName(queue);
    }
    const dead = deadLetterQueueName(queue);
    return this.#declare(`declare task queue "${queue}"`, {
      key: `task\0${queue}`,
      id: `task\0${queue}\0${JSON.stringify(args)}`,
      queues: [queue],
      run: async (channel) => {
        await channel.assertQueue(queue, { durable: true, arguments: args });
        await channel.assertQueue(dead, { durable: true });
      },
    });
  }

  assertQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    const declare: Options.AssertQueue = {
      durable: options.durable ?? true,
      autoDelete: options.autoDelete ?? false,
      expires: options.expiresMs,
      messageTtl: options.messageTtlMs,
    };
    return this.#declare(`declare queue "${queue}"`, {
      key: `queue\0${queue}`,
      id: `queue\0${queue}\0${JSON.stringify(declare)}`,
      queues: [queue],
      run: (channel) => channel.assertQueue(queue, declare),
    });
  }

  assertExchange(
    exchange: string,
    type: "direct" | "fanout" | "topic",
    options: { durable?: boolean } = {},
  ): Promise<void> {
    const durable = options.durable ?? true;
    return this.#declare(`declare exchange "${exchange}"`, {
      key: `exchange\0${exchange}`,
      id: `exchange\0${exchange}\0${type}\0${durable}`,
      queues: [],
      run: (channel) => channel.assertExchange(exchange, type, { durable }),
    });
  }

  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    const key = `bind\0${queue}\0${exchange}\0${routingKey}`;
    return this.#declare(`bind queue "${queue}" to exchange "${exchange}"`, {
      key,
      id: key,
      queues: [queue],
      run: (channel) => channel.bindQueue(queue, exchange, routingKey),
    });
  }

  async deleteQueue(queue: string): Promise<void> {
    for (const [key, declaration] of this.#topology) {
      if (declaration.queues.includes(queue)) {
        this.#topology.delete(key);
        this.#declared.delete(declaration.id);
      }
    }
    await this.#withAdmin(`delete queue "${queue}"`, (channel) => channel.deleteQueue(queue));
  }

  async inspectQueue(queue: string): Promise<QueueInfo | null> {
    const action = `inspect queue "${queue}"`;
    const conn = await this.#whenConnected(action);
    let slot: ChannelSlot;
    try {
      slot = new ChannelSlot(await conn.createChannel(), new Set());
    } catch (error) {
      throw brokerError(action, error);
    }
    try {
      const reply = await slot.channel.checkQueue(queue);
      return { messages: reply.messageCount, consumers: reply.consumerCount };
    } catch (error) {
      if (errorCode(error) === 404) return null;
      throw brokerError(action, error);
    } finally {
      void slot.close();
    }
  }

  async purgeQueue(queue: string): Promise<number> {
    const reply = await this.#withAdmin(
      `purge queue "${queue}"`,
      (channel) => channel.purgeQueue(queue),
    );
    return reply.messageCount;
  }

  publish(routingKey: string, body: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const exchange = options.exchange ?? "";
    const delayMs = options.delayMs ?? 0;
    if (delayMs > 0) {
      if (exchange !== "") {
        return Promise.reject(
          new TypeError(
            `Cannot delay a publish to exchange "${exchange}": delays need the default exchange`,
          ),
        );
      }
      return this.#publishDelayed(routingKey, body, options, delayMs);
    }
    const publisher = this.#publisher;
    if (publisher !== null && publisher.open && this.#connected) {
      return publisher.publish(exchange, routingKey, toBuffer(body), toPublishOptions(options));
    }
    return this.#publishSlow(exchange, routingKey, body, options);
  }

  consume(queue: string, options: ConsumeOptions): AsyncIterable<Delivery> {
    checkPrefetch(options.prefetch);
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<Delivery> => {
        const consumer = new AmqpConsumer(this.#host, queue, options);
        if (consumer.stream.ended) return consumer.stream;
        if (this.#closing) {
          consumer.stream.end();
          return consumer.stream;
        }
        this.#consumers.add(consumer);
        const conn = this.#conn;
        if (conn !== null && this.#connected) void consumer.start(conn);
        return consumer.stream;
      },
    };
  }

  async get(queue: string): Promise<Delivery | null> {
    const action = `get from queue "${queue}"`;
    const conn = await this.#whenConnected(action);
    const slot = await this.#getChannel(conn, action);
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

  onStatus(listener: (status: TransportStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#stop.abort();
    const closedError = new BrokerError(
      `Cannot use broker "${this.url}": the transport is closed`,
      {
        recoverable: false,
      },
    );
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError);
    }
    this.#waiters.clear();
    for (const consumer of [...this.#consumers]) consumer.stop(false);
    const conn = this.#conn;
    const publisher = this.#publisher;
    this.#dropConnection();
    if (conn !== null) {
      // Close the channels first: amqplib buffers frames per channel, and a
      // connection.close can overtake an ack still in a channel's buffer.
      // Unsettled deliveries go back to their queues.
      const channels = [...this.#host.slots].map((slot) => slot.close());
      if (publisher?.open) channels.push(publisher.channel.close().catch(noop));
      await withTimeout(Promise.all(channels), CLOSE_CHANNELS_MS);
      await conn.close().catch(noop);
    }
    await this.#reconnecting?.catch(noop);
    this.#emit({ type: "closed" });
  }

  #emit(status: TransportStatus): void {
    for (const listener of this.#listeners) {
      try {
        listener(status);
      } catch (error) {
        this.#log("error", "transport status listener threw", { error: toError(error).message });
      }
    }
  }

  /** Connect, declare the topology, open the publisher and resume consumers. */
  async #open(): Promise<void> {
    const conn = await this.#connectSocket();
    let lastError: Error | null = null;
    conn.on("error", (error: Error) => {
      lastError = error;
    });
    conn.on("close", (error?: Error) => this.#onConnectionClosed(conn, error ?? lastError));
    conn.on(
      "blocked",
      (reason: string) => this.#log("warn", "broker blocked the connection", { reason }),
    );
    conn.on("unblocked", () => this.#log("info", "broker unblocked the connection"));
    if (this.#closing) {
      await conn.close().catch(noop);
      throw new Error("the transport closed while connecting");
    }
    this.#conn = conn;
    try {
      this.#declared.clear();
      for (const declaration of [...this.#topology.values()]) {
        // A refused declaration closes the admin channel: fetch it each time.
        const admin = await this.#adminChannel(conn);
        try {
          await declaration.run(admin);
          this.#declared.add(declaration.id);
        } catch (error) {
          if (this.#conn !== conn) throw error;
          this.#log("error", "cannot re-declare after reconnect", {
            declaration: declaration.key.replaceAll("\0", " "),
            error: redactText(toError(error).message),
          });
        }
      }
      await this.#openPublisher(conn);
      for (const consumer of this.#consumers) await consumer.start(conn);
    } catch (error) {
      if (this.#conn === conn) this.#dropConnection();
      await conn.close().catch(noop);
      throw error;
    }
    if (this.#conn !== conn || this.#closing) {
      throw new Error("the connection closed while opening");
    }
    this.#connected = true;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(conn);
    }
    this.#waiters.clear();
    this.#emit({ type: "connected" });
  }

  async #connectSocket(): Promise<ChannelModel> {
    let url: URL;
    try {
      url = new URL(this.#rawUrl);
    } catch (error) {
      throw new UsageError(`Cannot connect to broker "${this.url}": not a valid URL`, {
        cause: error,
      });
    }
    if (!url.searchParams.has("heartbeat")) {
      url.searchParams.set("heartbeat", String(this.#heartbeatS));
    }
    const connecting = amqp.connect(url.toString(), {
      // Nagle's algorithm costs ~20 ms per request/reply round trip (DENO_NOTES).
      noDelay: true,
      timeout: this.#connectTimeoutMs,
      clientProperties: { connection_name: this.connectionName },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no connection after ${this.#connectTimeoutMs} ms`)),
        this.#connectTimeoutMs,
      );
    });
    try {
      return await Promise.race([connecting, timeout]);
    } catch (error) {
      connecting.then((late) => late.close().catch(noop), noop);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #onConnectionClosed(conn: ChannelModel, error: Error | null): void {
    if (conn !== this.#conn) return;
    const wasConnected = this.#connected;
    this.#dropConnection();
    if (this.#closing) return;
    this.#log("warn", "broker connection lost", {
      broker: this.url,
      error: error ? redactText(error.message) : null,
    });
    if (wasConnected) this.#emit({ type: "disconnected", error });
    this.#reconnecting ??= this.#reconnectLoop().finally(() => {
      this.#reconnecting = null;
    });
  }

  #dropConnection(): void {
    this.#conn = null;
    this.#connected = false;
    this.#publisher = null;
    this.#publisherOpening = null;
    this.#admin = null;
    this.#getSlot = null;
    this.#declared.clear();
  }

  async #reconnectLoop(): Promise<void> {
    let delayMs = this.#reconnectMinMs;
    for (let attempt = 1; !this.#closing; attempt++) {
      const waitMs = Math.round(delayMs * (0.5 + this.#random() / 2));
      this.#emit({ type: "reconnecting", attempt, delayMs: waitMs });
      try {
        await this.#clock.sleep(waitMs, this.#stop.signal);
      } catch {
        return;
      }
      try {
        await this.#open();
        this.#log("info", "broker connection restored", { broker: this.url, attempt });
        return;
      } catch (error) {
        this.#log("warn", "cannot reconnect to broker", {
          broker: this.url,
          attempt,
          error: redactText(toError(error).message),
        });
      }
      delayMs = Math.min(delayMs * 2, this.#reconnectMaxMs);
    }
  }

  /** The connection, now or after the reconnect (bounded by `reconnectWaitMs`). */
  #whenConnected(action: string): Promise<ChannelModel> {
    if (this.#conn !== null && this.#connected) return Promise.resolve(this.#conn);
    if (this.#closing) {
      return Promise.reject(
        new BrokerError(`Cannot ${action}: the transport is closed`, { recoverable: false }),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new BrokerError(
              `Cannot ${action}: not connected to broker "${this.url}" after ${this.#reconnectWaitMs} ms`,
            ),
          );
        }, this.#reconnectWaitMs),
      };
      this.#waiters.add(waiter);
    });
  }

  #adminChannel(conn: ChannelModel): Promise<Channel> {
    const admin = this.#admin;
    if (admin !== null && admin.conn === conn && admin.open) return admin.channel;
    const entry = {
      conn,
      open: true,
      channel: conn.createChannel().then((channel) => {
        channel.on("error", noop);
        channel.on("close", () => {
          entry.open = false;
        });
        return channel;
      }),
    };
    entry.channel.catch(() => {
      entry.open = false;
    });
    this.#admin = entry;
    return entry.channel;
  }

  async #withAdmin<T>(action: string, operation: (channel: Channel) => Promise<T>): Promise<T> {
    const conn = await this.#whenConnected(action);
    try {
      return await operation(await this.#adminChannel(conn));
    } catch (error) {
      throw brokerError(action, error);
    }
  }

  async #declare(action: string, declaration: Declaration): Promise<void> {
    this.#topology.set(declaration.key, declaration);
    const conn = await this.#whenConnected(action);
    if (this.#declared.has(declaration.id)) return;
    try {
      await declaration.run(await this.#adminChannel(conn));
    } catch (error) {
      if (this.#topology.get(declaration.key) === declaration) {
        this.#topology.delete(declaration.key);
      }
      throw brokerError(action, error);
    }
    if (this.#conn === conn) this.#declared.add(declaration.id);
  }

  #getChannel(conn: ChannelModel, action: string): Promise<ChannelSlot> {
    const current = this.#getSlot;
    if (current !== null && current.conn === conn) {
      return current.slot.then((slot) => slot.open ? slot : this.#openGetChannel(conn, action));
    }
    return this.#openGetChannel(conn, action);
  }

  #openGetChannel(conn: ChannelModel, action: string): Promise<ChannelSlot> {
    const slot = conn.createChannel().then(
      (channel) => new ChannelSlot(channel, this.#host.slots),
      (error) => {
        this.#getSlot = null;
        throw brokerError(action, error);
      },
    );
    this.#getSlot = { conn, slot };
    return slot;
  }

  async #openPublisher(conn: ChannelModel): Promise<Publisher> {
    const channel = await conn.createConfirmChannel();
    const publisher = new Publisher(channel);
    channel.on("close", () => {
      if (this.#publisher === publisher) this.#publisher = null;
    });
    if (this.#conn === conn) this.#publisher = publisher;
    return publisher;
  }

  /** Publish once connected, reopening the publish channel if the broker closed it. */
  async #publishSlow(
    exchange: string,
    routingKey: string,
    body: Uint8Array,
    options: PublishOptions,
  ): Promise<void> {
    const action = `publish to ${describeTarget(exchange, routingKey)}`;
    const conn = await this.#whenConnected(action);
    let publisher = this.#publisher;
    if (publisher === null || !publisher.open) {
      this.#publisherOpening ??= this.#openPublisher(conn).finally(() => {
        this.#publisherOpening = null;
      });
      try {
        publisher = await this.#publisherOpening;
      } catch (error) {
        throw brokerError(action, error);
      }
    }
    return publisher.publish(exchange, routingKey, toBuffer(body), toPublishOptions(options));
  }

  /**
   * Publish into the wait queue of `routingKey` for the delay's bucket. The
   * wait queue is declared right before every delayed publish: the declare
   * also restarts its `x-expires` countdown, so a queue holding a message can
   * never expire (its idle time is the delay plus 10 minutes). One extra
   * round trip per delayed publish is cheap next to the delay itself.
   */
  async #publishDelayed(
    queue: string,
    body: Uint8Array,
    options: PublishOptions,
    delayMs: number,
  ): Promise<void> {
    const bucketMs = delayBucketMs(delayMs);
    const waitQueue = delayQueueName(queue, bucketMs);
    await this.#withAdmin(
      `declare delay queue "${waitQueue}"`,
      (channel) =>
        channel.assertQueue(waitQueue, {
          durable: true,
          arguments: {
            "x-message-ttl": bucketMs,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue,
            "x-expires": bucketMs + DELAY_QUEUE_IDLE_MS,
          },
        }),
    );
    const { delayMs: _delay, exchange: _exchange, ...rest } = options;
    return this.publish(waitQueue, body, rest);
  }
}

interface PendingPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  returned: string | null;
  resolve(): void;
  reject(error: Error): void;
}

/** The confirm channel: one promise per publish, settled by the broker's ack, nack or return. */
class Publisher {
  readonly channel: ConfirmChannel;
  open = true;
  #pending = new Set<PendingPublish>();
  #error: Error | null = null;

  constructor(channel: ConfirmChannel) {
    this.channel = channel;
    channel.on("error", (error: Error) => {
      this.#error = error;
    });
    channel.on("close", () => {
      this.open = false;
    });
    channel.on("return", (message: Message) => this.#onReturn(message));
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const pending: PendingPublish = {
        exchange,
        routingKey,
        content,
        returned: null,
        resolve,
        reject,
      };
      this.#pending.add(pending);
      try {
        this.channel.publish(exchange, routingKey, content, options, (error: unknown) => {
          this.#confirmed(pending, error);
        });
      } catch (error) {
        this.#pending.delete(pending);
        reject(brokerError(`publish to ${describeTarget(exchange, routingKey)}`, error));
      }
    });
  }

  #confirmed(pending: PendingPublish, error: unknown): void {
    this.#pending.delete(pending);
    const action = `publish to ${describeTarget(pending.exchange, pending.routingKey)}`;
    if (error) {
      // amqplib calls back with "message nacked", or "channel closed" for every
      // publish still unconfirmed when the channel or the connection goes.
      const nacked = toError(error).message === "message nacked";
      const cause = nacked ? toError(error) : this.#error ?? toError(error);
      const state = nacked
        ? "the broker refused it (nack)"
        : this.#error
        ? redactText(cause.message)
        : "the connection closed before the broker confirmed it";
      pending.reject(
        new BrokerError(`Cannot ${action}: ${state}`, {
          cause,
          recoverable: errorCode(cause) !== 404,
        }),
      );
    } else if (pending.returned !== null) {
      pending.reject(
        new UnroutableError(
          `Cannot ${action}: unroutable (${pending.returned})`,
          pending.routingKey,
        ),
      );
    } else {
      pending.resolve();
    }
  }

  /**
   * A mandatory publish came back unroutable; the broker sends the return just
   * before the ack of the same message. Returns carry no delivery tag, so the
   * pending publish is found by exchange, routing key and content.
   */
  #onReturn(message: Message): void {
    const fields = message.fields as Message["fields"] & { replyText?: string };
    for (const pending of this.#pending) {
      if (
        pending.returned === null && pending.exchange === fields.exchange &&
        pending.routingKey === fields.routingKey && pending.content.equals(message.content)
      ) {
        pending.returned = fields.replyText ?? "returned by the broker";
        return;
      }
    }
  }
}

/** A consumer or get channel and how many of its deliveries are unsettled. */
class ChannelSlot {
  readonly channel: Channel;
  open = true;
  error: Error | null = null;
  unsettled = 0;
  #retireAfter: Promise<unknown> | null = null;

  constructor(channel: Channel, registry: Set<ChannelSlot>) {
    this.channel = channel;
    registry.add(this);
    channel.on("error", (error: Error) => {
      this.error = error;
    });
    channel.on("close", () => {
      this.open = false;
      registry.delete(this);
    });
  }

  /** One delivery of this channel was settled. */
  settled(): void {
    this.unsettled--;
    this.#closeIfIdle();
  }

  /** Close the channel once `after` is done and no delivery is unsettled. */
  retire(after: Promise<unknown>): void {
    this.#retireAfter = after;
    this.#closeIfIdle();
  }

  close(): Promise<void> {
    if (!this.open) return RESOLVED;
    this.open = false;
    try {
      return this.channel.close().catch(noop);
    } catch {
      return RESOLVED; // already closed by the broker
    }
  }

  #closeIfIdle(): void {
    const after = this.#retireAfter;
    if (after === null || this.unsettled > 0) return;
    this.#retireAfter = null;
    after.then(() => this.close(), () => this.close());
  }
}

/** One `consume()` iteration: its own channel, restarted after reconnects. */
class AmqpConsumer {
  readonly stream: AsyncQueue<AmqpDelivery>;
  #host: ConsumerHost;
  #queue: string;
  #prefetch: number;
  #signal: AbortSignal | undefined;
  #slot: ChannelSlot | null = null;
  #startedOn: ChannelModel | null = null;
  #consumerTag: string | null = null;
  #stopped = false;
  #onAbort = (): void => this.stop(true);

  constructor(host: ConsumerHost, queue: string, options: ConsumeOptions) {
    this.#host = host;
    this.#queue = queue;
    this.#prefetch = options.prefetch;
    this.#signal = options.signal;
    this.stream = new AsyncQueue<AmqpDelivery>(() => this.stop(true));
    if (this.#signal?.aborted) {
      this.#stopped = true;
      this.stream.end();
    } else {
      this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** Open a channel on `conn` and start consuming; failures end the iteration with the error. */
  async start(conn: ChannelModel): Promise<void> {
    if (this.#stopped || this.#startedOn === conn) return;
    this.#startedOn = conn;
    let slot: ChannelSlot | null = null;
    try {
      slot = new ChannelSlot(await conn.createChannel(), this.#host.slots);
      const current = slot;
      current.channel.on("close", () => this.#onChannelClosed(current));
      await current.channel.prefetch(this.#prefetch);
      const reply = await current.channel.consume(
        this.#queue,
        (message) => this.#onMessage(current, message),
        { noAck: false },
      );
      this.#slot = current;
      this.#consumerTag = reply.consumerTag;
      if (this.#stopped) this.#retire(current);
    } catch (error) {
      void slot?.close();
      if (this.#startedOn === conn) this.#startedOn = null;
      // A dead connection is the reconnect's business; anything else ends the iteration.
      if (this.#host.liveConnection() === conn && !this.#stopped) {
        this.#fail(brokerError(`consume queue "${this.#queue}"`, error));
      }
    }
  }

  /** Stop consuming; with `requeueBuffered`, deliveries not yet read go back now. */
  stop(requeueBuffered: boolean): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.forget(this);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const buffered = this.stream.takeBuffered();
    this.stream.end();
    if (requeueBuffered) { for (const delivery of buffered) delivery.requeue().catch(noop); }
    const slot = this.#slot;
    if (slot !== null && slot.open) this.#retire(slot);
  }

  #retire(slot: ChannelSlot): void {
    const tag = this.#consumerTag;
    this.#consumerTag = null;
    const cancelled = tag !== null && slot.open ? slot.channel.cancel(tag).catch(noop) : RESOLVED;
    slot.retire(cancelled);
  }

  #fail(error: BrokerError): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.forget(this);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.stream.fail(error);
  }

  #onMessage(slot: ChannelSlot, message: Message | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted); there is nothing to ack.
      this.#consumerTag = null;
      slot.retire(RESOLVED);
      this.#fail(
        new BrokerError(
          `Cannot consume queue "${this.#queue}": the broker cancelled the consumer`,
          {
            recoverable: false,
          },
        ),
      );
      return;
    }
    slot.unsettled++;
    const delivery = new AmqpDelivery(this.#host, slot, this.#queue, message);
    if (this.#stopped || !this.stream.push(delivery)) delivery.requeue().catch(noop);
  }

  #onChannelClosed(slot: ChannelSlot): void {
    if (slot !== this.#slot) return;
    this.#slot = null;
    this.#consumerTag = null;
    // Deliveries of a dead channel are back in the queue already: never hand them out.
    this.stream.takeBuffered();
    const conn = this.#startedOn;
    this.#startedOn = null;
    if (this.#stopped || slot.error === null) return; // connection lost: the reconnect restarts us
    this.#host.log("warn", "consumer channel closed by the broker; restarting", {
      queue: this.#queue,
      error: redactText(slot.error.message),
    });
    this.#host.clock.sleep(100).then(() => {
      const live = this.#host.liveConnection();
      if (live !== null && live === conn) return this.start(live);
    }).catch(noop);
  }
}

/** One message from RabbitMQ; settling never throws synchronously. */
class AmqpDelivery implements Delivery {
  readonly queue: string;
  readonly body: Uint8Array;
  readonly props: MessageProps;
  readonly redelivered: boolean;
  #host: ConsumerHost;
  #slot: ChannelSlot;
  #message: Message;
  #settled = false;

  constructor(host: ConsumerHost, slot: ChannelSlot, queue: string, message: Message) {
    this.queue = queue;
    this.body = message.content;
    this.props = fromAmqpProperties(message.properties);
    this.redelivered = message.fields.redelivered;
    this.#host = host;
    this.#slot = slot;
    this.#message = message;
  }

  ack(): Promise<void> {
    return this.#claim("ack") ?? this.#settle("ack");
  }

  requeue(): Promise<void> {
    return this.#claim("requeue") ?? this.#settle("requeue");
  }

  async deadLetter(reason: string, headers: Record<string, unknown> = {}): Promise<void> {
    const claimed = this.#claim("dead-letter");
    if (claimed) return claimed;
    if (!this.#slot.open) return this.#settle("dead-letter");
    const props = deadLetterProps(this.props, {
      queue: this.queue,
      reason,
      at: this.#host.clock.now(),
      headers,
    });
    try {
      await this.#host.publish(deadLetterQueueName(this.queue), this.body, props);
    } catch (error) {
      this.#settled = false;
      throw error;
    }
    return this.#settle("ack");
  }

  #claim(action: string): Promise<void> | null {
    if (!this.#settled) {
      this.#settled = true;
      return null;
    }
    return Promise.reject(
      new BrokerError(
        `Cannot ${action} message from queue "${this.queue}": it is already settled`,
        {
          recoverable: false,
        },
      ),
    );
  }

  #settle(action: string): Promise<void> {
    const slot = this.#slot;
    try {
      if (!slot.open) {
        return Promise.reject(
          new BrokerError(
            `Cannot ${action} message from queue "${this.queue}": its channel closed; the broker delivers it again`,
          ),
        );
      }
      if (action === "requeue") slot.channel.reject(this.#message, true);
      else slot.channel.ack(this.#message);
      return RESOLVED;
    } catch (error) {
      return Promise.reject(brokerError(`${action} message from queue "${this.queue}"`, error));
    } finally {
      slot.settled();
    }
  }
}

function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function toPublishOptions(options: PublishOptions): Options.Publish {
  const publish: Options.Publish = {
    mandatory: true,
    headers: options.headers === undefined ? {} : toAmqpHeaders(options.headers),
  };
  if (options.contentType !== undefined) publish.contentType = options.contentType;
  if (options.contentEncoding !== undefined) publish.contentEncoding = options.contentEncoding;
  if (options.correlationId !== undefined) publish.correlationId = options.correlationId;
  if (options.replyTo !== undefined) publish.replyTo = options.replyTo;
  if (options.messageId !== undefined) publish.messageId = options.messageId;
  if (options.priority !== undefined) publish.priority = options.priority;
  if (options.persistent) publish.deliveryMode = 2;
  return publish;
}

function fromAmqpProperties(properties: MessageProperties): MessageProps {
  const props: MessageProps = { headers: properties.headers ?? {} };
  if (properties.contentType !== undefined) props.contentType = properties.contentType;
  if (properties.contentEncoding !== undefined) props.contentEncoding = properties.contentEncoding;
  if (properties.correlationId !== undefined) props.correlationId = properties.correlationId;
  if (properties.replyTo !== undefined) props.replyTo = properties.replyTo;
  if (properties.messageId !== undefined) props.messageId = properties.messageId;
  if (properties.priority !== undefined) props.priority = properties.priority;
  if (properties.deliveryMode === 2) props.persistent = true;
  return props;
}

function describeTarget(exchange: string, routingKey: string): string {
  return exchange === ""
    ? `queue "${routingKey}"`
    : `exchange "${exchange}" with routing key "${routingKey}"`;
}

function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Wrap a driver error; 4xx channel errors (not found, precondition failed…) are not recoverable. */
function brokerError(action: string, error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  const cause = toError(error);
  const code = errorCode(cause);
  return new BrokerError(`Cannot ${action}: ${redactText(cause.message)}`, {
    cause,
    recoverable: code === undefined || code < 400 || code >= 500,
  });
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise.then(noop, noop), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
