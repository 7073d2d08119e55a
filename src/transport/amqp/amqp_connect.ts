/**
 * One connection attempt to RabbitMQ, bounded in time. amqplib itself is
 * passed in: `amqp_transport.ts` stays the only module that imports it.
 * @module
 */

import type { ChannelModel } from "amqplib";
import type { Clock } from "../../clock.ts";
import { UsageError } from "../../errors.ts";
import { guardHeaderFrames } from "./amqp_header_frames.ts";
import { batchSocketWrites } from "./amqp_write_batching.ts";

/** amqplib's `connect()`, as far as dts calls it. */
export type AmqpConnect = (
  url: string,
  socketOptions: Record<string, unknown>,
) => Promise<ChannelModel>;

/** Options of `connectAmqp()`. */
export interface ConnectAmqpOptions {
  /** The URL without its password, for error messages. */
  redactedUrl: string;
  /** AMQP heartbeat, unless the URL sets `?heartbeat=`. */
  heartbeatS: number;
  /** Give up after this long. */
  timeoutMs: number;
  /** The `connection_name` client property. */
  connectionName: string;
  /** Runs the timeout. */
  clock: Clock;
}

const noop = (): void => {};

/**
 * Open a connection to `url`; a connection that arrives after the timeout is closed.
 * @throws {UsageError} when the URL cannot be parsed
 */
export async function connectAmqp(
  connect: AmqpConnect,
  url: string,
  options: ConnectAmqpOptions,
): Promise<ChannelModel> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new UsageError(`Cannot connect to broker "${options.redactedUrl}": not a valid URL`, {
      cause: error,
    });
  }
  if (!parsed.searchParams.has("heartbeat")) {
    parsed.searchParams.set("heartbeat", String(options.heartbeatS));
  }
  const connecting = connect(parsed.toString(), {
    // Nagle's algorithm costs ~20 ms per request/reply round trip (DENO_NOTES).
    noDelay: true,
    timeout: options.timeoutMs,
    clientProperties: { connection_name: options.connectionName },
  });
  const cancel = new AbortController();
  const timeout = options.clock.sleep(options.timeoutMs, cancel.signal).then(
    (): never => {
      throw new Error(`no connection after ${options.timeoutMs} ms`);
    },
    (): never => {
      throw new Error("cancelled");
    },
  );
  timeout.catch(noop);
  try {
    const conn = await Promise.race([connecting, timeout]);
    try {
      guardHeaderFrames(conn);
      batchSocketWrites(conn);
    } catch (error) {
      await conn.close().catch(noop);
      throw error;
    }
    return conn;
  } catch (error) {
    connecting.then((late) => late.close().catch(noop), noop);
    throw error;
  } finally {
    cancel.abort();
  }
}
