/**
 * Declarations, deletes, purges and inspections of an `AmqpTransport`. They
 * share one admin channel per connection, opened on first use and reopened
 * after the broker closed it (a refused declaration closes the channel it
 * happens on); `inspectQueue` gets a throwaway channel, since a missing queue
 * (404) closes it.
 * @module
 */

import type { Channel, ChannelModel } from "amqplib";
import type { AmqpConnection } from "./amqp_connection.ts";
import { ChannelSlot } from "./amqp_channel_slot.ts";
import { brokerError, errorCode } from "./amqp_errors.ts";
import { AmqpTopology, type Declaration } from "./amqp_topology.ts";
import type { QueueInfo } from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

const noop = (): void => {};

/** A declaration on its way to the broker, shared by everyone who asks for it meanwhile. */
interface Declaring {
  readonly conn: ChannelModel;
  readonly done: Promise<void>;
}

interface AdminEntry {
  readonly conn: ChannelModel;
  open: boolean;
  readonly channel: Promise<Channel>;
}

/** The admin side of one `AmqpTransport`, with the topology to replay after reconnects. */
export class AmqpAdmin {
  #connection: AmqpConnection;
  #log: TransportLog;
  #topology = new AmqpTopology();
  #admin: AdminEntry | null = null;
  #declaring = new Map<string, Declaring>();

  /** Operations wait for `connection` (see `whenConnected`). */
  constructor(connection: AmqpConnection, log: TransportLog) {
    this.#connection = connection;
    this.#log = log;
  }

  /**
   * Declare and remember for replays; repeating it on the same connection
   * costs no round trip, and callers who ask while it is on its way share it.
   * (A retry storm asks for the delay ladder once per failing task: 2,000
   * concurrent ladders of 28 quorum queues each kept a broker busy for
   * minutes.)
   */
  async declare(declaration: Declaration): Promise<void> {
    this.#topology.remember(declaration);
    const conn = await this.#connection.whenConnected(declaration.action);
    if (this.#topology.isDeclared(declaration)) return;
    const declaring = this.#declaring.get(declaration.id);
    if (declaring !== undefined && declaring.conn === conn) return declaring.done;
    const done = this.#run(conn, declaration);
    this.#declaring.set(declaration.id, { conn, done });
    try {
      await done;
    } finally {
      if (this.#declaring.get(declaration.id)?.done === done) {
        this.#declaring.delete(declaration.id);
      }
    }
  }

  async #run(conn: ChannelModel, declaration: Declaration): Promise<void> {
    try {
      await declaration.run(await this.#channel(conn));
    } catch (error) {
      this.#topology.forgetRefused(declaration);
      throw brokerError(declaration.action, error);
    }
    if (this.#connection.current === conn) this.#topology.markDeclared(declaration);
  }

  /** Delete a queue, and forget the declarations that concern it. */
  async deleteQueue(queue: string): Promise<void> {
    this.#topology.forgetQueue(queue);
    await this.run(`delete queue "${queue}"`, (channel) => channel.deleteQueue(queue));
  }

  /** A publish to `queue` was unroutable: the queue is gone, so its declarations must run again. */
  forgetDeclared(queue: string): void {
    this.#topology.forgetDeclared(queue);
  }

  /** Drop the ready messages of a queue; resolves to how many. */
  async purgeQueue(queue: string): Promise<number> {
    const reply = await this.run(
      `purge queue "${queue}"`,
      (channel) => channel.purgeQueue(queue),
    );
    return reply.messageCount;
  }

  /** Depth and consumers of a queue, or null when it does not exist. */
  async inspectQueue(queue: string): Promise<QueueInfo | null> {
    const action = `inspect queue "${queue}"`;
    const conn = await this.#connection.whenConnected(action);
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

  /**
   * Run one operation on the admin channel once connected.
   * @throws {BrokerError} wrapping the driver's error
   */
  async run<T>(action: string, operation: (channel: Channel) => Promise<T>): Promise<T> {
    const conn = await this.#connection.whenConnected(action);
    try {
      return await operation(await this.#channel(conn));
    } catch (error) {
      throw brokerError(action, error);
    }
  }

  /** Declare everything again on a new connection, before it counts as connected. */
  replay(conn: ChannelModel): Promise<void> {
    return this.#topology.replay(
      () => this.#channel(conn),
      () => this.#connection.current === conn,
      this.#log,
    );
  }

  /** The connection is gone: its channel, and what it had declared. */
  reset(): void {
    this.#admin = null;
    this.#declaring.clear();
    this.#topology.resetDeclared();
  }

  #channel(conn: ChannelModel): Promise<Channel> {
    const admin = this.#admin;
    if (admin !== null && admin.conn === conn && admin.open) return admin.channel;
    const entry: AdminEntry = {
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
}
