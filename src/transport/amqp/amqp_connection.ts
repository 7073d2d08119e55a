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
import { BrokerError, toError, UsageError } from "../../errors.ts";
import { redactText, redactUrl } from "../../log/redact.ts";
import { type AmqpConnect, connectAmqp } from "./amqp_connect.ts";
import { describeConnectError, NoNodeReachableError } from "./amqp_connect_errors.ts";
import { ConnectionWaiters } from "./amqp_connection_waiters.ts";
import { reconnect } from "./amqp_reconnect.ts";
import type { TransportStatus } from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

/** Settings and hooks of an `AmqpConnection`. */
export interface AmqpConnectionOptions {
  /** amqplib's `connect()`. */
  connect: AmqpConnect;
  /**
   * The broker's nodes, passwords included: one URL, or a failover list
   * tried in turn (each attempt starts at the node after the one that dropped).
   */
  rawUrls: readonly string[];
  /** The broker setting with its passwords shown as `***`, for messages. */
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
  /** Index in `rawUrls` of the node connected to, or last connected to. */
  #node = 0;
  /** Index of the node the next attempt starts with. */
  #nextNode = 0;

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

  /** The node connected to (or last connected to), its password shown as `***`. */
  get node(): string {
    return redactUrl(this.#options.rawUrls[this.#node]);
  }

  /**
   * Connect, prepare and emit `connected`, trying each node once, starting
   * with `#nextNode`; rejects with the cause (`NoNodeReachableError` for a
   * list) when every node failed.
   * @throws {UsageError} when a URL cannot be parsed
   */
  async open(): Promise<void> {
    const urls = this.#options.rawUrls;
    const failures: { url: string; error: unknown }[] = [];
    for (let tried = 0; tried < urls.length; tried++) {
      const index = (this.#nextNode + tried) % urls.length;
      try {
        await this.#openOn(urls[index]);
        this.#node = index;
        this.#nextNode = index;
        this.#connected = true;
        this.#waiters.resolveAll(this.#conn!);
        this.#emit({ type: "connected" });
        return;
      } catch (error) {
        if (error instanceof UsageError || this.#closing) throw error;
        failures.push({ url: urls[index], error });
      }
    }
    // The next round starts where this one failed first: the same order again.
    throw failures.length === 1 ? failures[0].error : new NoNodeReachableError(failures);
  }

  /** Connect to one node and prepare the connection; leaves it as `#conn`, not yet connected. */
  async #openOn(url: string): Promise<void> {
    const options = this.#options;
    const conn = await connectAmqp(options.connect, url, {
      redactedUrl: redactUrl(url),
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
      broker: this.node,
      error: error ? redactText(error.message) : null,
    });
    if (wasConnected) this.#emit({ type: "disconnected", error });
    // The node that dropped is likely gone: fail over to the next one first.
    this.#nextNode = (this.#node + 1) % options.rawUrls.length;
    this.#reconnecting ??= reconnect({
      node: () => this.node,
      describe: (e) => describeConnectError(e, options.rawUrls[this.#nextNode]),
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
