/**
 * The channel an `AmqpTransport` takes single messages on (basic.get): one
 * per connection, opened on first use and reopened after it closed.
 * @module
 */

import type { ChannelModel } from "amqplib";
import { ChannelSlot } from "./amqp_channel_slot.ts";
import { brokerError } from "./amqp_errors.ts";

/** The shared get channel of the current connection. */
export class GetChannel {
  #current: { conn: ChannelModel; slot: Promise<ChannelSlot> } | null = null;
  #slots: Set<ChannelSlot>;

  /** `slots` is the transport's registry of open consumer and get channels. */
  constructor(slots: Set<ChannelSlot>) {
    this.#slots = slots;
  }

  /**
   * The get channel on `conn`, opening a new one when there is none or it closed.
   * @throws {BrokerError} when the channel cannot be opened
   */
  get(conn: ChannelModel, action: string): Promise<ChannelSlot> {
    const current = this.#current;
    if (current !== null && current.conn === conn) {
      return current.slot.then((slot) => slot.open ? slot : this.#open(conn, action));
    }
    return this.#open(conn, action);
  }

  /** Forget the channel (its connection is gone). */
  reset(): void {
    this.#current = null;
  }

  #open(conn: ChannelModel, action: string): Promise<ChannelSlot> {
    const slot = conn.createChannel().then(
      (channel) => new ChannelSlot(channel, this.#slots),
      (error) => {
        this.#current = null;
        throw brokerError(action, error);
      },
    );
    this.#current = { conn, slot };
    return slot;
  }
}
