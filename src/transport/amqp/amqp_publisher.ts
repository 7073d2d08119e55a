/**
 * The confirm channel that every publish of an `AmqpTransport` goes through.
 * Publishes are mandatory, so an unroutable message comes back as a return
 * and rejects, never a silent loss.
 * @module
 */

import type { ConfirmChannel, Message, Options } from "amqplib";
import type { Buffer } from "node:buffer";
import { BrokerError, MessageTooLargeError, toError, UnroutableError } from "../../errors.ts";
import { redactText } from "../../log/redact.ts";
import { brokerError, errorCode } from "./amqp_errors.ts";

interface PendingPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  returned: string | null;
  resolve(): void;
  reject(error: Error): void;
}

/** The confirm channel: one promise per publish, settled by the broker's ack, nack or return. */
export class AmqpPublisher {
  readonly channel: ConfirmChannel;
  /** False once the channel closed; a new publisher is needed then. */
  open = true;
  #pending = new Set<PendingPublish>();
  #error: Error | null = null;

  #onUnroutable: (exchange: string, routingKey: string) => void;

  /** Watch `channel` for errors, closing and returns; `onUnroutable` hears of every return. */
  constructor(
    channel: ConfirmChannel,
    onUnroutable: (exchange: string, routingKey: string) => void = () => {},
  ) {
    this.channel = channel;
    this.#onUnroutable = onUnroutable;
    channel.on("error", (error: Error) => {
      this.#error = error;
    });
    channel.on("close", () => {
      this.open = false;
    });
    channel.on("return", (message: Message) => this.#onReturn(message));
  }

  /** Publish one message; resolves on the broker's ack, rejects on a nack, a return or a lost channel. */
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
      const maxBytes = brokerMaxMessageBytes(cause);
      if (maxBytes !== null) {
        // The broker closes the whole channel over one message that is too
        // large; every other publish on it only lost its channel.
        pending.reject(
          pending.content.length > maxBytes
            ? new MessageTooLargeError(
              `Cannot ${action}: the message has ${pending.content.length} bytes and the broker takes at most ${maxBytes} (max_message_size)`,
              { bytes: pending.content.length, maxBytes },
              { cause },
            )
            : new BrokerError(
              `Cannot ${action}: the broker closed the publish channel over another, larger message`,
              { cause, recoverable: true },
            ),
        );
        return;
      }
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
      this.#onUnroutable(pending.exchange, pending.routingKey);
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

/** How error messages name where a publish went. */
export function describeTarget(exchange: string, routingKey: string): string {
  return exchange === ""
    ? `queue "${routingKey}"`
    : `exchange "${exchange}" with routing key "${routingKey}"`;
}

/** RabbitMQ's `max_message_size` when `error` is its refusal of a message for size, else null. */
function brokerMaxMessageBytes(error: Error): number | null {
  if (errorCode(error) !== 406) return null;
  // e.g. PRECONDITION_FAILED - message size 2097233 is larger than configured max size 1048576
  const match = /larger than configured max size (\d+)/.exec(error.message);
  return match ? Number(match[1]) : null;
}
