/**
 * A worker's life on the event stream (Celery's `worker/heartbeat.py`):
 * `worker-online` once it runs, `worker-heartbeat` every `freq` seconds
 * (monitors count a worker as gone after missing a few), `worker-offline`
 * when it stops. Each carries the load and software fields Celery sends.
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import type { EventEmitter } from "./event_emitter.ts";

/** What a heartbeat reports, read at each beat. */
export interface HeartbeatSource {
  /** Tasks running now. */
  active(): number;
  /** Tasks started since the worker started. */
  processed(): number;
}

/** How a worker beats. */
export interface HeartbeatOptions {
  /** @default 2000 (Celery's 2 s) */
  intervalMs?: number;
  /** The worker's version, as `sw_ver`. */
  version: string;
  /** @default systemClock */
  clock?: Clock;
}

/** Running heartbeats; `stop()` sends `worker-offline`. */
export interface Heartbeat {
  /** Stop beating and send `worker-offline`; waits at most `flushMs` for the broker's confirm. */
  stop(flushMs?: number): Promise<void>;
}

/** Send `worker-online` now, then a heartbeat every interval until `stop()`. */
export function startHeartbeat(
  emitter: EventEmitter,
  source: HeartbeatSource,
  options: HeartbeatOptions,
): Heartbeat {
  const intervalMs = options.intervalMs ?? 2000;
  const clock = options.clock ?? systemClock;
  const software = { sw_ident: "dts", sw_ver: options.version, sw_sys: systemName() };
  const beat = (type: string) =>
    emitter.send(type, {
      freq: intervalMs / 1000,
      active: source.active(),
      processed: source.processed(),
      loadavg: loadAverage(),
      ...software,
    });
  beat("worker-online");
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      await clock.sleep(intervalMs, stopped.signal).catch(() => {});
      if (!stopped.signal.aborted) beat("worker-heartbeat");
    }
  })();
  return {
    async stop(flushMs = 1000) {
      if (stopped.signal.aborted) return;
      stopped.abort();
      await loop;
      beat("worker-offline");
      await emitter.flush(flushMs);
    },
  };
}

/** The 1, 5 and 15 minute load averages rounded up to 2 decimals, as Celery's `load_average()`; zeros when unreadable. */
export function loadAverage(): number[] {
  try {
    return Deno.loadavg().map((load) => Math.ceil(load * 100) / 100);
  } catch {
    return [0, 0, 0];
  }
}

/** Python's `platform.system()` for this OS: `Linux`, `Darwin`, `Windows`. */
function systemName(): string {
  const names: Record<string, string> = { linux: "Linux", darwin: "Darwin", windows: "Windows" };
  return names[Deno.build.os] ?? Deno.build.os;
}
