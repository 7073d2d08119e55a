/**
 * The queues, exchanges and bindings declared through an `AmqpTransport`:
 * remembered so that a reconnect declares them again (non-durable and
 * auto-delete ones do not survive a broker restart or a dropped connection),
 * and cached per connection so that a repeated declaration costs no round trip.
 * @module
 */

import type { Channel, Options } from "amqplib";
import { toError } from "../../errors.ts";
import { checkTaskQueueOptions } from "../message_props.ts";
import { redactText } from "../../log/redact.ts";
import {
  DELAY_LOST_QUEUE,
  DELAY_OUT_EXCHANGE,
  DELAY_UNROUTABLE,
  delayLevels,
  levelName,
  levelPassPattern,
  levelQueueArguments,
  levelQueuePattern,
  nextStop,
  outPattern,
  UNROUTABLE_TTL_MS,
} from "./delay_levels.ts";
import {
  deadLetterQueueName,
  DEFAULT_STREAM_MAX_BYTES,
  type QueueOptions,
  type StreamOptions,
  type TaskQueueOptions,
} from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

/** One declaration, replayable on any channel. */
export interface Declaration {
  /** What it does, for error messages: `declare queue "q"`. */
  readonly action: string;
  /** Identity within the topology (latest options win). */
  readonly key: string;
  /** Identity including options: what was declared on this connection. */
  readonly id: string;
  /** Queues it concerns, so deleting a queue forgets it. */
  readonly queues: readonly string[];
  run(channel: Channel): Promise<unknown>;
}

/** A durable task queue and its `<queue>.dead`, both of the configured type. */
export function taskQueueDeclaration(queue: string, options: TaskQueueOptions): Declaration {
  const type = options.type ?? "classic";
  // Classic: durable and NO arguments, exactly what Celery declares, or
  // RabbitMQ refuses the second declaration with PRECONDITION_FAILED.
  const args: Record<string, unknown> = {};
  const deadArgs: Record<string, unknown> = {};
  if (type === "quorum") {
    args["x-queue-type"] = "quorum";
    deadArgs["x-queue-type"] = "quorum";
    if (options.deliveryLimit !== undefined) args["x-delivery-limit"] = options.deliveryLimit;
    // Without a dead-letter target a quorum queue drops a message past its
    // delivery limit; and only at-least-once dead-lettering survives a broker
    // crash mid-way (it requires reject-publish, a no-op without a length limit).
    args["x-dead-letter-exchange"] = "";
    args["x-dead-letter-routing-key"] = deadLetterQueueName(queue);
    args["x-dead-letter-strategy"] = "at-least-once";
    args["x-overflow"] = "reject-publish";
  }
  checkTaskQueueOptions(queue, options);
  if (options.maxPriority !== undefined) args["x-max-priority"] = options.maxPriority;
  const dead = deadLetterQueueName(queue);
  return {
    action: `declare task queue "${queue}" as ${type}`,
    key: `task\0${queue}`,
    id: `task\0${queue}\0${JSON.stringify(args)}`,
    queues: [queue, dead],
    run: async (channel) => {
      await channel.assertQueue(queue, { durable: true, arguments: args });
      await channel.assertQueue(dead, { durable: true, arguments: deadArgs });
    },
  };
}

/**
 * The shared delay ladder (see `delay_levels.ts`): an exchange and a quorum
 * queue per level, the bindings between them, `dts.delay.out` and its
 * alternate exchange for delays whose task queue is gone.
 */
export function delayLadderDeclaration(): Declaration {
  const levels = delayLevels();
  return {
    action:
      "declare the delay queues dts.delay.* (quorum queues with at-least-once dead-lettering: RabbitMQ 3.10 or later)",
    key: "delay-ladder",
    id: "delay-ladder",
    queues: [],
    run: async (channel) => {
      await channel.assertExchange(DELAY_UNROUTABLE, "fanout", { durable: true });
      await channel.assertQueue(DELAY_LOST_QUEUE, {
        durable: true,
        arguments: { "x-queue-type": "quorum", "x-message-ttl": UNROUTABLE_TTL_MS },
      });
      await channel.bindQueue(DELAY_LOST_QUEUE, DELAY_UNROUTABLE, "");
      await channel.assertExchange(DELAY_OUT_EXCHANGE, "topic", {
        durable: true,
        alternateExchange: DELAY_UNROUTABLE,
      });
      for (const level of levels) {
        await channel.assertExchange(levelName(level), "topic", { durable: true });
      }
      for (const level of levels) {
        const name = levelName(level);
        await channel.assertQueue(name, { durable: true, arguments: levelQueueArguments(level) });
        await channel.bindQueue(name, name, levelQueuePattern(level));
        await channel.bindExchange(nextStop(level), name, levelPassPattern(level));
      }
    },
  };
}

/** Route messages that leave the delay ladder for `queue` into it. */
export function delayOutDeclaration(queue: string): Declaration {
  const pattern = outPattern(queue);
  return {
    action: `bind queue "${queue}" to the delay exchange "${DELAY_OUT_EXCHANGE}"`,
    key: `delay-out\0${queue}`,
    id: `delay-out\0${queue}`,
    queues: [queue],
    run: (channel) => channel.bindQueue(queue, DELAY_OUT_EXCHANGE, pattern),
  };
}

/** A plain queue (reply queues, control queues). */
export function queueDeclaration(queue: string, options: QueueOptions): Declaration {
  const declare: Options.AssertQueue = {
    durable: options.durable ?? true,
    autoDelete: options.autoDelete ?? false,
    expires: options.expiresMs,
    messageTtl: options.messageTtlMs,
    maxLength: options.maxLength,
  };
  const args: Record<string, unknown> = {};
  if (options.type === "quorum") args["x-queue-type"] = "quorum";
  if (options.singleActiveConsumer) args["x-single-active-consumer"] = true;
  if (Object.keys(args).length > 0) declare.arguments = args;
  return {
    action: `declare queue "${queue}"`,
    key: `queue\0${queue}`,
    id: `queue\0${queue}\0${JSON.stringify(declare)}`,
    queues: [queue],
    run: (channel) => channel.assertQueue(queue, declare),
  };
}

/** The segment size of a stream: what RabbitMQ trims at once. */
const STREAM_SEGMENT_BYTES = 1_000_000;

/** A stream queue: an append-only log, trimmed by age and size. */
export function streamDeclaration(name: string, options: StreamOptions): Declaration {
  const args = {
    "x-queue-type": "stream",
    // RabbitMQ's units: Y, M, D, h, m, s.
    "x-max-age": `${Math.max(1, Math.ceil(options.maxAgeMs / 1000))}s`,
    "x-max-length-bytes": options.maxBytes ?? DEFAULT_STREAM_MAX_BYTES,
    // RabbitMQ trims whole segments (500 MB by default): small ones let the age limit bite.
    "x-stream-max-segment-size-bytes": STREAM_SEGMENT_BYTES,
  };
  return {
    action: `declare stream "${name}"`,
    key: `queue\0${name}`,
    id: `stream\0${name}\0${JSON.stringify(args)}`,
    queues: [name],
    run: (channel) => channel.assertQueue(name, { durable: true, arguments: args }),
  };
}

/** An exchange. */
export function exchangeDeclaration(
  exchange: string,
  type: "direct" | "fanout" | "topic",
  options: { durable?: boolean },
): Declaration {
  const durable = options.durable ?? true;
  return {
    action: `declare exchange "${exchange}"`,
    key: `exchange\0${exchange}`,
    id: `exchange\0${exchange}\0${type}\0${durable}`,
    queues: [],
    run: (channel) => channel.assertExchange(exchange, type, { durable }),
  };
}

/** A binding of a queue to an exchange. */
export function bindingDeclaration(
  queue: string,
  exchange: string,
  routingKey: string,
): Declaration {
  const key = `bind\0${queue}\0${exchange}\0${routingKey}`;
  return {
    action: `bind queue "${queue}" to exchange "${exchange}"`,
    key,
    id: key,
    queues: [queue],
    run: (channel) => channel.bindQueue(queue, exchange, routingKey),
  };
}

/** Every declaration made through one transport, and which of them the current connection has seen. */
export class AmqpTopology {
  #declarations = new Map<string, Declaration>();
  #declared = new Set<string>();

  /** Keep a declaration for replays; it replaces an older one with the same key. */
  remember(declaration: Declaration): void {
    this.#declarations.set(declaration.key, declaration);
  }

  /** Whether the current connection has declared exactly this already. */
  isDeclared(declaration: Declaration): boolean {
    return this.#declared.has(declaration.id);
  }

  /** Note that the current connection has declared it. */
  markDeclared(declaration: Declaration): void {
    this.#declared.add(declaration.id);
  }

  /** The broker refused it: do not replay it, unless a newer declaration replaced it meanwhile. */
  forgetRefused(declaration: Declaration): void {
    if (this.#declarations.get(declaration.key) === declaration) {
      this.#declarations.delete(declaration.key);
    }
  }

  /** The queue was deleted: forget every declaration that concerns it. */
  forgetQueue(queue: string): void {
    for (const [key, declaration] of this.#declarations) {
      if (declaration.queues.includes(queue)) {
        this.#declarations.delete(key);
        this.#declared.delete(declaration.id);
      }
    }
  }

  /** Someone deleted the queue behind our back (a publish to it was unroutable): declare again on next use. */
  forgetDeclared(queue: string): void {
    for (const declaration of this.#declarations.values()) {
      if (declaration.queues.includes(queue)) this.#declared.delete(declaration.id);
    }
  }

  /** The connection is gone: nothing counts as declared any more. */
  resetDeclared(): void {
    this.#declared.clear();
  }

  /**
   * Declare everything again on a new connection. A refused declaration is
   * logged and skipped; an error after the connection was replaced
   * (`isCurrent()` false) is thrown.
   */
  async replay(
    adminChannel: () => Promise<Channel>,
    isCurrent: () => boolean,
    log: TransportLog,
  ): Promise<void> {
    this.#declared.clear();
    for (const declaration of [...this.#declarations.values()]) {
      // A refused declaration closes the admin channel: fetch it each time.
      const admin = await adminChannel();
      try {
        await declaration.run(admin);
        this.#declared.add(declaration.id);
      } catch (error) {
        if (!isCurrent()) throw error;
        log("error", "cannot re-declare after reconnect", {
          declaration: declaration.key.replaceAll("\0", " "),
          error: redactText(toError(error).message),
        });
      }
    }
  }
}
