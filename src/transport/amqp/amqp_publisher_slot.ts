/**
 * Which confirm channel an `AmqpTransport` publishes on: one per connection,
 * opened when the connection is prepared, and reopened on the next publish
 * after the broker closed it (a publish to a missing exchange does that).
 * @module
 */

import type { ChannelModel } from "amqplib";
import type { AmqpConnection } from "./amqp_connection.ts";
import { brokerError } from "./amqp_errors.ts";
import { toBuffer, toPublishOptions } from "./amqp_properties.ts";
import { AmqpPublisher, describeTarget } from "./amqp_publisher.ts";
import type { PublishOptions } from "../transport.ts";

/** The current publisher of a transport, if any. */
export class PublisherSlot {
  /** The publisher of the live connection, read by the publish fast path; null when there is none. */
  current: AmqpPublisher | null = null;
  #opening: Promise<AmqpPublisher> | null = null;
  #connection: AmqpConnection;

  #onUnroutable: (exchange: string, routingKey: string) => void;

  /** Publishers follow `connection`; `onUnroutable` hears of every publish that came back unroutable. */
  constructor(
    connection: AmqpConnection,
    onUnroutable: (exchange: string, routingKey: string) => void,
  ) {
    this.#connection = connection;
    this.#onUnroutable = onUnroutable;
  }

  /** Open a publisher on `conn`; it becomes current if `conn` is still the live connection. */
  async open(conn: ChannelModel): Promise<AmqpPublisher> {
    const channel = await conn.createConfirmChannel();
    const publisher = new AmqpPublisher(channel, this.#onUnroutable);
    channel.on("close", () => {
      if (this.current === publisher) this.current = null;
    });
    if (this.#connection.current === conn) this.current = publisher;
    return publisher;
  }

  /** Publish once connected, reopening the publish channel if the broker closed it. */
  async publishSlow(
    exchange: string,
    routingKey: string,
    body: Uint8Array,
    options: PublishOptions,
  ): Promise<void> {
    const action = `publish to ${describeTarget(exchange, routingKey)}`;
    const conn = await this.#connection.whenConnected(action);
    let publisher = this.current;
    if (publisher === null || !publisher.open) {
      this.#opening ??= this.open(conn).finally(() => {
        this.#opening = null;
      });
      try {
        publisher = await this.#opening;
      } catch (error) {
        throw brokerError(action, error);
      }
    }
    return publisher.publish(exchange, routingKey, toBuffer(body), toPublishOptions(options));
  }

  /** The connection is gone, and its publisher with it. */
  reset(): void {
    this.current = null;
    this.#opening = null;
  }
}
