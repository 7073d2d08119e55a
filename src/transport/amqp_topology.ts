/**
 * The queues, exchanges and bindings declared through an `AmqpTransport`:
 * remembered so that a reconnect declares them again (non-durable and
 * auto-delete ones do not survive a broker restart or a dropped connection),
 * and cached per connection so that a repeated declaration costs no round trip.
 * @module
 */

import type { Channel, Options } from "amqplib";
import { toError } from "../errors.ts";
import { redactText } from "../log/redact.ts";
import { deadLetterQueueName, type QueueOptions, type TaskQueueOptions } from "./transport.ts";
import type { TransportLog } from "./transport_log.ts";

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

/** A durable task queue and its `<queue>.dead`. */
export function taskQueueDeclaration(queue: string, options: TaskQueueOptions): Declaration {
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
  return {
    action: `declare task queue "${queue}"`,
    key: `task\0${queue}`,
    id: `task\0${queue}\0${JSON.stringify(args)}`,
    queues: [queue],
    run: async (channel) => {
      await channel.assertQueue(queue, { durable: true, arguments: args });
      await channel.assertQueue(dead, { durable: true });
    },
  };
}

/** A plain queue (reply queues, control queues). */
export function queueDeclaration(queue: string, options: QueueOptions): Declaration {
  const declare: Options.AssertQueue = {
    durable: options.durable ?? true,
    autoDelete: options.autoDelete ?? false,
    expires: options.expiresMs,
    messageTtl: options.messageTtlMs,
  };
  return {
    action: `declare queue "${queue}"`,
    key: `queue\0${queue}`,
    id: `queue\0${queue}\0${JSON.stringify(declare)}`,
    queues: [queue],
    run: (channel) => channel.assertQueue(queue, declare),
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
