/**
 * The broker seam: everything dts needs from a message broker. Two
 * implementations pass one contract suite (`tests/contract/transport_contract.ts`):
 * `AmqpTransport` (RabbitMQ via amqplib, `amqp/`) and `MemoryTransport`
 * (the embedded `memory://` broker, `memory/`); a third broker would be a
 * folder beside them.
 *
 * The seam is shaped by AMQP 0-9-1, and says so: `Transport` is what any
 * queueing broker offers (queues, confirmed publishes, consumers that
 * settle); `BrokerAdmin` is what dts uses that is AMQP's own (exchanges and
 * bindings, because Celery's remote control is a fanout exchange; a one-off
 * `get`; queue inspection and purge). A broker without them emulates them.
 *
 * Terms: a *queue* holds messages; the *default exchange* (`""`) routes a
 * message to the queue named by its routing key; `<queue>.dead` holds the
 * dead letters of a task queue.
 * @module
 */

/** The AMQP basic properties dts uses, in camelCase. */
export interface MessageProps {
  /** Application headers. Numbers keep their int/float nature on the wire (Celery reads `I`/`d`). */
  headers: Record<string, unknown>;
  contentType?: string;
  contentEncoding?: string;
  correlationId?: string;
  replyTo?: string;
  messageId?: string;
  priority?: number;
  /** Survives a broker restart (delivery mode 2). */
  persistent?: boolean;
}

/** The longest delay a publish may ask for: about 49.7 days (RabbitMQ's delay ladder holds no more). */
export const MAX_DELAY_MS = 2 ** 32 - 16;

/** How to publish one message. */
export interface PublishOptions extends Partial<MessageProps> {
  /** Exchange to publish to. @default "" (the default exchange: routing key = queue name) */
  exchange?: string;
  /**
   * Hold the message in the broker for this long before it reaches the queue
   * named by the routing key. Only with the default exchange. Never a timer in
   * this process: the wait survives the publisher's death. At most
   * `MAX_DELAY_MS`; RabbitMQ holds it to the nearest 16 ms.
   */
  delayMs?: number;
  /**
   * Refuse a message no queue takes with `UnroutableError` (AMQP's
   * `mandatory`). `false` lets the broker drop it silently, for messages
   * nobody may be listening to (Celery's events, as Celery publishes them).
   * @default true
   */
  mandatory?: boolean;
}

/**
 * Added to a delivery's headers by a transport that could not read some
 * header of the message (nested too deep, an unknown type); its value says
 * which and why. A task message carrying it is malformed and dead-lettered.
 */
export const UNDECODABLE_HEADER = "x-dts-undecodable";

/** One message handed to a consumer; unsettled until exactly one of the methods is called. */
export interface Delivery {
  readonly queue: string;
  readonly body: Uint8Array;
  readonly props: MessageProps;
  /** The broker delivered this message before (to this or another consumer). */
  readonly redelivered: boolean;
  /** Whether ack, requeue or a dead letter has settled it (or is settling it). */
  readonly settled: boolean;
  /** Remove the message: its outcome is safely recorded elsewhere. */
  ack(): Promise<void>;
  /**
   * Publish a copy to `<queue>.dead` with `x-dts-reason` (and `headers`) added,
   * wait for the broker's confirm, then ack the original.
   */
  deadLetter(reason: string, headers?: Record<string, unknown>): Promise<void>;
  /** Give the message back to the queue for another consumer; the broker marks it redelivered. */
  requeue(): Promise<void>;
  /**
   * Give the message back without the broker counting a redelivery: publish a
   * confirmed copy at the queue's tail (with `headers` merged in and the
   * broker's own headers, such as `x-death`, left out), then ack the original.
   * When the copy cannot be published, requeue instead: never lost.
   */
  release(headers?: Record<string, unknown>): Promise<void>;
}

/** Options for a plain queue (reply queues, control queues). */
export interface QueueOptions {
  /** @default true */
  durable?: boolean;
  /** Deleted when its last consumer goes. @default false */
  autoDelete?: boolean;
  /** Deleted after this long unused (AMQP `x-expires`). */
  expiresMs?: number;
  /** Drop messages older than this (AMQP `x-message-ttl`). */
  messageTtlMs?: number;
  /**
   * Hold at most this many ready messages (AMQP `x-max-length`): one more
   * drops the oldest ready one, on publish and on requeue alike. Messages
   * held by consumers do not count.
   */
  maxLength?: number;
  /**
   * Deliver to one consumer at a time (AMQP `x-single-active-consumer`): the
   * earliest subscribed that is still there. When it goes (cancelled, its
   * connection lost) the next in line takes over, with what it held.
   */
  singleActiveConsumer?: boolean;
  /**
   * `quorum` replicates the queue over a cluster's nodes, so it survives the
   * loss of the node it was declared on (durable only, never auto-delete).
   * The memory broker has one node and ignores it. @default "classic"
   */
  type?: "classic" | "quorum";
}

/** Options for a task queue and its dead-letter queue. */
export interface TaskQueueOptions {
  /** `classic` is what Celery declares; `quorum` replicates. @default "classic" */
  type?: "classic" | "quorum";
  /** Quorum only: dead-letter a message after this many redeliveries (poison guard). */
  deliveryLimit?: number;
  /**
   * Classic only: a priority queue (`x-max-priority`): a message with a
   * higher `priority` (0..this) is delivered before lower ones waiting.
   */
  maxPriority?: number;
}

/** Depth and consumers of a queue. */
export interface QueueInfo {
  messages: number;
  consumers: number;
}

/** Connection state changes, for readiness and metrics. */
export type TransportStatus =
  | { type: "connected" }
  | { type: "disconnected"; error: Error | null }
  | { type: "reconnecting"; attempt: number; delayMs: number }
  | { type: "closed" };

/** Options for one consumer. */
export interface ConsumeOptions {
  /** How many unsettled deliveries this consumer may hold. */
  prefetch: number;
  /** Aborting cancels the consumer and ends the iteration; unsettled deliveries may still be settled. */
  signal?: AbortSignal;
  /**
   * Called for each delivery the consumer had received but not handed out
   * when its channel or connection died: the broker has it back and delivers
   * it again, marked redelivered. Must not throw.
   */
  onReturned?(delivery: Delivery): void;
}

/**
 * One `consume()`: an iterable of deliveries whose prefetch can change while
 * it runs (a worker's autoscaler moves it with the pool).
 */
export interface Consumer extends AsyncIterable<Delivery> {
  /**
   * Hold at most `prefetch` unsettled deliveries from now on, across
   * reconnects and restarts too; deliveries held already stay held. A larger
   * prefetch lets more in at once. Lowered, no new delivery comes until fewer
   * than `prefetch` are unsettled, except on RabbitMQ: it applies `basic.qos`
   * only to consumers started after it, so the AMQP wing re-subscribes on
   * the same channel, and until the deliveries taken before the change are
   * settled the consumer may hold those plus `prefetch`.
   * Resolves once the broker has it (at once while disconnected: the
   * reconnect uses it).
   * Rejects with a `RangeError` when `prefetch` is not an integer 0..65535.
   */
  setPrefetch(prefetch: number): Promise<void>;
}

/** How long a stream keeps its entries. */
export interface StreamOptions {
  /**
   * Entries older than this may be dropped. RabbitMQ trims whole segments,
   * so some live longer: a reader that cares checks each entry's age.
   */
  maxAgeMs: number;
  /** Keep about this many bytes at most. @default 50 MB */
  maxBytes?: number;
}

/** What a stream keeps when its declaration names no size, on every transport. */
export const DEFAULT_STREAM_MAX_BYTES = 50_000_000;

/** One entry of a stream, as read. */
export interface StreamEntry {
  readonly body: Uint8Array;
  readonly props: MessageProps;
  /** Its place in the stream: one more than the entry before it. */
  readonly offset: number;
}

/**
 * Where a reader starts: `first`, the oldest entry kept; `next`, the entries
 * appended once it is attached; `{ sinceMs }`, the entries appended in the
 * last `sinceMs` (RabbitMQ starts at the chunk that holds that moment, so a
 * few older ones may come too).
 */
export type StreamStart = "first" | "next" | { sinceMs: number };

/** Where a `readStream()` starts. */
export interface ReadStreamOptions {
  from: StreamStart;
  /** Aborting ends the iteration. */
  signal?: AbortSignal;
}

/**
 * The AMQP-shaped part of the seam: exchanges and bindings, one-off gets,
 * inspecting, purging and deleting queues.
 */
export interface BrokerAdmin {
  /** Declare an exchange; idempotent. */
  assertExchange(
    exchange: string,
    type: "direct" | "fanout" | "topic",
    options?: { durable?: boolean },
  ): Promise<void>;
  /** Route messages published to `exchange` with `routingKey` into `queue`. */
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void>;
  /** Delete a queue and what it holds. */
  deleteQueue(queue: string): Promise<void>;
  /** Depth and consumers of a queue, or null when it does not exist. */
  inspectQueue(queue: string): Promise<QueueInfo | null>;
  /** Drop every ready message of a queue; resolves to how many. */
  purgeQueue(queue: string): Promise<number>;
  /** Take one message without a consumer (basic.get), or null when the queue is empty. */
  get(queue: string): Promise<Delivery | null>;
}

/** A connection to a broker. Survives dropped connections by reconnecting by itself. */
export interface Transport extends BrokerAdmin, AsyncDisposable {
  /** The broker URL with its password shown as `***`. */
  readonly url: string;
  /** Whether the connection is up right now. */
  readonly connected: boolean;
  /** Declare a durable task queue and its `<queue>.dead`; idempotent. */
  assertTaskQueue(queue: string, options?: TaskQueueOptions): Promise<void>;
  /** Declare a plain queue; idempotent. */
  assertQueue(queue: string, options?: QueueOptions): Promise<void>;
  /**
   * Publish one message; resolves once the broker has confirmed it (it is then
   * safe: routed to a queue, or returned as unroutable with a rejection).
   * @throws {MessageTooLargeError} when it is larger than the broker takes
   * @throws {UnroutableError} when no queue takes it (unless `mandatory: false`)
   * @throws {BrokerError} when the broker refuses it or the connection drops before the confirm
   */
  publish(routingKey: string, body: Uint8Array, options?: PublishOptions): Promise<void>;
  /** Consume a queue. The iteration continues across reconnects and ends when the signal aborts or the transport closes. */
  consume(queue: string, options: ConsumeOptions): Consumer;
  /**
   * Declare a stream (a RabbitMQ stream queue): an append-only log that every
   * reader reads whole, trimmed by age; idempotent. Entries are appended with
   * `publish(name, ...)`, like messages to a queue.
   */
  assertStream(name: string, options: StreamOptions): Promise<void>;
  /**
   * Read a stream in order, every entry once (no acknowledgements: reading
   * takes nothing away). Across reconnects it goes on after the last entry
   * read; it ends when the signal aborts or the transport closes.
   */
  readStream(name: string, options: ReadStreamOptions): AsyncIterable<StreamEntry>;
  /** Subscribe to connection state changes; returns the unsubscribe function. */
  onStatus(listener: (status: TransportStatus) => void): () => void;
  /** Close the connection; unsettled deliveries go back to their queues. */
  close(): Promise<void>;
}

/** Name of the dead-letter queue of a task queue. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dead`;
}
