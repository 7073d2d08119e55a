/**
 * The connection under an `AmqpTransport` and its lifecycle: connect, notice
 * a drop we did not ask for, reconnect with backoff, hold calls made while
 * disconnected, report every change as a `TransportStatus`, close.
 * What a new connection needs before it is usable (declarations, publisher,
 * consumers) is the transport's `prepare` hook.
 * @module
 */

import type { ChannelModel } from "amqplib";
import { type Clock, within } from "../../clock.ts";
import { BrokerError, toError } from "../../errors.ts";
import { redactText } from "../../log/redact.ts";
import { type AmqpConnect, connectAmqp } from "./amqp_connect.ts";
import { ConnectionWaiters } from "./amqp_connection_waiters.ts";
import { reconnect } from "./amqp_reconnect.ts";
import type { TransportStatus } from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

/** Settings and hooks of an `AmqpConnection`. */
export interface AmqpConnectionOptions {
  /** amqplib's `connect()`. */
  connect: AmqpConnect;
  /** The broker URL, password included. */
  rawUrl: string;
  /** The broker URL with its password shown as `***`. */
  url: string;
  connectionName: string;
  heartbeatS: number;
  connectTimeoutMs: number;
  reconnectWaitMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  clock: Clock;
  random: () => number;
  log: TransportLog;
  /** Make a new connection usable before it counts as connected; a throw fails the attempt. */
  prepare(conn: ChannelModel): Promise<void>;
  /** The connection is gone: forget everything opened on it. */
  dropped(): void;
}

/** What `close()` lets the transport do, in this order. */
export interface CloseSteps {
  /** Before the connection is dropped, synchronously: stop the users of the connection. */
  stopUsers(): void;
  /** Once dropped: start closing every open channel; each promise must never reject. */
  closeChannels(): Promise<void>[];
}

/** How long `close()` waits for channels to close cleanly before closing the connection. */
const CLOSE_CHANNELS_MS = 2000;
const noop = (): void => {};

/** One logical connection to RabbitMQ that survives drops by reconnecting. */
export class AmqpConnection {
  #options: AmqpConnectionOptions;
  #conn: ChannelModel | null = null;
  #connected = false;
  #waiters: ConnectionWaiters;
  #listeners = new Set<(status: TransportStatus) => void>();
  #reconnecting: Promise<void> | null = null;
  #closing = false;
  #stop = new AbortController();

  /** Not connected yet: call `open()`. */
  constructor(options: AmqpConnectionOptions) {
    this.#options = options;
    this.#waiters = new ConnectionWaiters(options.clock);
  }

  /** The connection, also while it is being prepared; null when there is none. */
  get current(): ChannelModel | null {
    return this.#conn;
  }

  /** Whether the connection is up and prepared. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Whether `close()` was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Subscribe to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: TransportStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connect, prepare and emit `connected`; rejects with the cause when that fails. */
  async open(): Promise<void> {
    const options = this.#options;
    const conn = await connectAmqp(options.connect, options.rawUrl, {
      redactedUrl: options.url,
      heartbeatS: options.heartbeatS,
      timeoutMs: options.connectTimeoutMs,
      clock: options.clock,
      connectionName: options.connectionName,
    });
    let lastError: Error | null = null;
    conn.on("error", (error: Error) => {
      lastError = error;
    });
    conn.on("close", (error?: Error) => this.#onClosed(conn, error ?? lastError));
    conn.on(
      "blocked",
      (reason: string) => options.log("warn", "broker blocked the connection", { reason }),
    );
    conn.on("unblocked", () => options.log("info", "broker unblocked the connection"));
    if (this.#closing) {
      await conn.close().catch(noop);
      throw new Error("the transport closed while connecting");
    }
    this.#conn = conn;
    try {
      await options.prepare(conn);
    } catch (error) {
      if (this.#conn === conn) this.#drop();
      await conn.close().catch(noop);
      throw error;
    }
    if (this.#conn !== conn || this.#closing) {
      throw new Error("the connection closed while opening");
    }
    this.#connected = true;
    this.#waiters.resolveAll(conn);
    this.#emit({ type: "connected" });
  }

  /** The connection, now or after the reconnect (bounded by `reconnectWaitMs`). */
  whenConnected(action: string): Promise<ChannelModel> {
    if (this.#conn !== null && this.#connected) return Promise.resolve(this.#conn);
    if (this.#closing) {
      return Promise.reject(
        new BrokerError(`Cannot ${action}: the transport is closed`, { recoverable: false }),
      );
    }
    const { url, reconnectWaitMs } = this.#options;
    return this.#waiters.wait(
      reconnectWaitMs,
      () =>
        new BrokerError(
          `Cannot ${action}: not connected to broker "${url}" after ${reconnectWaitMs} ms`,
        ),
    );
  }

  /** Stop reconnecting, fail the waiting calls, run `steps`, close the connection, emit `closed`. */
  async close(steps: CloseSteps): Promise<void> {
    this.#closing = true;
    this.#stop.abort();
    this.#waiters.rejectAll(
      new BrokerError(`Cannot use broker "${this.#options.url}": the transport is closed`, {
        recoverable: false,
      }),
    );
    steps.stopUsers();
    const conn = this.#conn;
    this.#drop();
    if (conn !== null) {
      // Close the channels first: amqplib buffers frames per channel, and a
      // connection.close can overtake an ack still in a channel's buffer.
      // Unsettled deliveries go back to their queues.
      await within(
        Promise.all(steps.closeChannels()).then(noop, noop),
        CLOSE_CHANNELS_MS,
        this.#options.clock,
      );
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
        this.#options.log("error", "transport status listener threw", {
          error: toError(error).message,
        });
      }
    }
  }

  #onClosed(conn: ChannelModel, error: Error | null): void {
    if (conn !== this.#conn) return;
    const wasConnected = this.#connected;
    this.#drop();
    if (this.#closing) return;
    const options = this.#options;
    options.log("warn", "broker connection lost", {
      broker: options.url,
      error: error ? redactText(error.message) : null,
    });
    if (wasConnected) this.#emit({ type: "disconnected", error });
    this.#reconnecting ??= reconnect({
      url: options.url,
      minMs: options.reconnectMinMs,
      maxMs: options.reconnectMaxMs,
      clock: options.clock,
      random: options.random,
      signal: this.#stop.signal,
      closing: () => this.#closing,
      open: () => this.open(),
      emit: (status) => this.#emit(status),
      log: options.log,
    }).finally(() => {
      this.#reconnecting = null;
    });
  }

  #drop(): void {
    this.#conn = null;
    this.#connected = false;
    this.#options.dropped();
  }
}
