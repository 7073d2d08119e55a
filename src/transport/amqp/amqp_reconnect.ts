/**
 * The reconnect loop of an `AmqpTransport`: capped, jittered exponential
 * backoff, one `reconnecting` status per attempt, until a connection opens or
 * the transport closes.
 * @module
 */

import type { Clock } from "../../clock.ts";
import { backoffDelayMs } from "../../retry/backoff.ts";
import type { TransportStatus } from "../transport.ts";
import type { TransportLog } from "../transport_log.ts";

/** What `reconnect()` needs from its transport. */
export interface ReconnectOptions {
  /** The node connected to, or last tried, without its password, for the log. */
  node(): string;
  /** First delay, doubled per attempt. */
  minMs: number;
  /** Cap of the delay. */
  maxMs: number;
  clock: Clock;
  /** Source of the jitter. */
  random: () => number;
  /** Aborts the wait between attempts when the transport closes. */
  signal: AbortSignal;
  /** Whether the transport is closing: stop trying. */
  closing(): boolean;
  /** Why an attempt failed, in words an operator can act on (no password). */
  describe(error: unknown): string;
  /** One connection attempt: connect, declare, resume; rejects on failure. */
  open(): Promise<void>;
  emit(status: TransportStatus): void;
  log: TransportLog;
}

/** Retry `options.open()` until it succeeds or the transport closes. */
export async function reconnect(options: ReconnectOptions): Promise<void> {
  const { clock, log } = options;
  for (let attempt = 1; !options.closing(); attempt++) {
    // Half jitter: workers that lost the same broker do not all come back at once.
    const waitMs = backoffDelayMs(attempt - 1, {
      baseMs: options.minMs,
      maxMs: options.maxMs,
      jitter: "half",
    }, options.random);
    options.emit({ type: "reconnecting", attempt, delayMs: waitMs });
    try {
      await clock.sleep(waitMs, options.signal);
    } catch {
      return;
    }
    try {
      await options.open();
      log("info", "broker connection restored", { broker: options.node(), attempt });
      return;
    } catch (error) {
      log("warn", "cannot reconnect to broker", {
        broker: options.node(),
        attempt,
        error: options.describe(error),
      });
    }
  }
}
