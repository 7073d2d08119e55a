/**
 * Pick a transport by the broker URL's scheme.
 * @module
 */

import type { Clock } from "../clock.ts";
import { UsageError } from "../errors.ts";
import { redactUrl } from "../log/redact.ts";
import { AmqpTransport } from "./amqp/amqp_transport.ts";
import type { MemoryBroker } from "./memory/memory_broker.ts";
import { MemoryTransport } from "./memory/memory_transport.ts";
import { brokerUrlsProblem, schemeOf, splitBrokerUrls } from "./broker_urls.ts";
import type { Transport } from "./transport.ts";
import type { TransportLog } from "./transport_log.ts";

/** Options of `openTransport()`. */
export interface OpenTransportOptions {
  /** The in-process broker that `memory://` connects to; required for `memory://`. */
  memoryBroker?: MemoryBroker;
  /** AMQP heartbeat in seconds. @default 10 */
  heartbeatS?: number;
  /** AMQP: give up one connection attempt after this long. @default 5000 */
  connectTimeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Where the transport logs reconnects and dropped connections. */
  onLog?: TransportLog;
  /** AMQP: keep trying the first connection this long while the broker is not up yet. @default 0 */
  retryConnectMs?: number;
  /** Stops those retries (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Open a transport for `url`: `amqp://` and `amqps://` connect to RabbitMQ,
 * `memory://` to `options.memoryBroker`.
 * @throws {UsageError} for another scheme, or `memory://` without a broker
 * @throws {BrokerUnreachableError} when RabbitMQ cannot be reached
 */
export async function openTransport(
  url: string,
  options: OpenTransportOptions = {},
): Promise<Transport> {
  const problem = brokerUrlsProblem(url);
  if (problem !== null) {
    throw new UsageError(`Cannot open broker "${redactUrl(url)}": the setting ${problem}`);
  }
  const scheme = schemeOf(splitBrokerUrls(url)[0]);
  if (scheme === "amqp" || scheme === "amqps") {
    return await AmqpTransport.connect(url, {
      heartbeatS: options.heartbeatS,
      connectTimeoutMs: options.connectTimeoutMs,
      clock: options.clock,
      onLog: options.onLog,
      retryConnectMs: options.retryConnectMs,
      signal: options.signal,
    });
  }
  if (scheme === "memory") {
    if (options.memoryBroker === undefined) {
      throw new UsageError(
        `Cannot open broker "${
          redactUrl(url)
        }": memory:// exists only inside one process (e.g. "dts demo"); use amqp:// or amqps:// to reach other processes`,
      );
    }
    return new MemoryTransport(options.memoryBroker, { clock: options.clock });
  }
  throw new UsageError(
    `Cannot open broker "${
      redactUrl(url)
    }": unsupported scheme; use amqp://, amqps:// or memory://`,
  );
}
