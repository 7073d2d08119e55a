/**
 * A delivery from RabbitMQ: settled on the channel it arrived on, and never
 * throwing synchronously. Once that channel has died, settling rejects with a
 * recoverable `BrokerError`: the broker already put the message back and will
 * deliver it again.
 * @module
 */

import type { Message } from "amqplib";
import type { Clock } from "../../clock.ts";
import { BrokerError } from "../../errors.ts";
import type { ChannelSlot } from "./amqp_channel_slot.ts";
import { brokerError } from "./amqp_errors.ts";
import { fromAmqpProperties } from "./amqp_properties.ts";
import { type SettleAction, SettleOnceDelivery } from "../settle_once_delivery.ts";
import type { MessageProps, PublishOptions } from "../transport.ts";

/** What an `AmqpDelivery` needs from its transport to dead-letter itself. */
export interface AmqpDeliveryHost {
  /** The transport's confirmed publish. */
  publish(routingKey: string, body: Uint8Array, options: PublishOptions): Promise<void>;
  clock: Clock;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** One message from RabbitMQ; settling never throws synchronously. */
export class AmqpDelivery extends SettleOnceDelivery {
  #host: AmqpDeliveryHost;
  #slot: ChannelSlot;
  #message: Message;

  /** The caller has counted the message in `slot.unsettled`. */
  constructor(host: AmqpDeliveryHost, slot: ChannelSlot, queue: string, message: Message) {
    super(
      queue,
      message.content,
      fromAmqpProperties(message.properties),
      message.fields.redelivered,
    );
    this.#host = host;
    this.#slot = slot;
    this.#message = message;
  }

  protected get settleable(): boolean {
    return this.#slot.open;
  }

  protected now(): number {
    return this.#host.clock.now();
  }

  protected publishCopy(queue: string, props: MessageProps): Promise<void> {
    return this.#host.publish(queue, this.body, props);
  }

  protected settle(action: SettleAction): Promise<void> {
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
