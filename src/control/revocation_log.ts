/**
 * Where revocations outlive the workers that heard them: a RabbitMQ stream,
 * `dts.revocations`, that every worker reads whole when it starts and then
 * follows. A stream, because it is a durable log that many readers read
 * without taking anything away, trimmed by age by the broker itself; a
 * queue would hand each revocation to one worker only, and Celery's answer
 * (a starting worker asks the live ones, "mingle") forgets every revocation
 * made while no worker ran.
 *
 * A worker knows it has read everything written before it started when it
 * reads back a marker it appended itself (a stream tells a reader no length).
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { DtsError } from "../errors.ts";
import { backoffDelayMs } from "../retry/backoff.ts";
import type { Logger } from "../log/logger.ts";
import type { StreamEntry, Transport } from "../transport/transport.ts";
import type { Revocation } from "./revoked_set.ts";

/** The stream of revocations, shared by the fleet. */
export const REVOCATION_STREAM = "dts.revocations";
/** How long a revocation counts: Celery's default (`REVOKE_EXPIRES`, 3 hours). */
export const REVOKE_EXPIRES_MS = 3 * 60 * 60 * 1000;
/** How long the stream keeps entries: a little more than they count. */
const STREAM_MAX_AGE_MS = REVOKE_EXPIRES_MS + 60 * 60 * 1000;
/** About 200,000 revocations. */
const STREAM_MAX_BYTES = 50_000_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What one entry of the stream says. */
export type LogEntry =
  | { kind: "revocation"; revocation: Revocation }
  | { kind: "marker"; id: string };

/** How long to wait for a stream that is still starting (a broker just restarted). */
const STREAM_STARTING_MS = 30_000;

/**
 * Declare the stream; idempotent. Right after a broker restart RabbitMQ
 * refuses a stream it has not started yet ("home node … is down or
 * inaccessible"): that is waited out, for up to `STREAM_STARTING_MS`.
 */
export async function openRevocationLog(
  transport: Transport,
  options: { clock?: Clock; signal?: AbortSignal } = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + STREAM_STARTING_MS;
  for (let attempt = 0;; attempt++) {
    try {
      return await transport.assertStream(REVOCATION_STREAM, {
        maxAgeMs: STREAM_MAX_AGE_MS,
        maxBytes: STREAM_MAX_BYTES,
      });
    } catch (error) {
      if (!isStarting(error) || clock.now() > deadline) throw error;
      await clock.sleep(
        backoffDelayMs(attempt, { baseMs: 100, factor: 2, maxMs: 2000 }),
        options.signal,
      );
    }
  }
}

/** RabbitMQ's refusal of a queue whose replica has not started yet. */
export function isStarting(error: unknown): boolean {
  return error instanceof Error && /is down or inaccessible/.test(error.message);
}

/** Append revocations; resolves once the broker has every one. */
export async function logRevocations(
  transport: Transport,
  revocations: readonly Revocation[],
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  await openRevocationLog(transport, { signal: options.signal });
  options.signal?.throwIfAborted();
  await Promise.all(
    revocations.map((revocation) =>
      transport.publish(REVOCATION_STREAM, encodeEntry({ kind: "revocation", revocation }), {
        headers: {},
        contentType: "application/json",
        persistent: true,
      })
    ),
  );
}

/** A revocation made now, counting for `REVOKE_EXPIRES_MS`. */
export function newRevocation(
  taskId: string,
  options: { terminate?: boolean; reason?: string; now: number },
): Revocation {
  return {
    taskId,
    terminate: options.terminate ?? false,
    reason: options.reason ?? "revoked",
    revokedAt: options.now,
    expiresAt: options.now + REVOKE_EXPIRES_MS,
  };
}

export function encodeEntry(entry: LogEntry): Uint8Array {
  if (entry.kind === "marker") return encoder.encode(JSON.stringify({ marker: entry.id }));
  const { taskId, terminate, reason, revokedAt, expiresAt } = entry.revocation;
  return encoder.encode(JSON.stringify({
    task_id: taskId,
    terminate,
    reason,
    revoked_at: new Date(revokedAt).toISOString(),
    expires_at: new Date(expiresAt).toISOString(),
  }));
}

/** The entry, or null for anything this version cannot read (skipped, never fatal). */
export function decodeEntry(body: Uint8Array): LogEntry | null {
  let wire: unknown;
  try {
    wire = JSON.parse(decoder.decode(body));
  } catch {
    return null;
  }
  if (typeof wire !== "object" || wire === null || Array.isArray(wire)) return null;
  const fields = wire as Record<string, unknown>;
  if (typeof fields.marker === "string") return { kind: "marker", id: fields.marker };
  const revokedAt = Date.parse(String(fields.revoked_at));
  const expiresAt = Date.parse(String(fields.expires_at));
  if (typeof fields.task_id !== "string" || fields.task_id === "") return null;
  if (!Number.isFinite(revokedAt) || !Number.isFinite(expiresAt)) return null;
  return {
    kind: "revocation",
    revocation: {
      taskId: fields.task_id,
      terminate: fields.terminate === true,
      reason: typeof fields.reason === "string" ? fields.reason.slice(0, 1000) : "revoked",
      revokedAt,
      expiresAt,
    },
  };
}

/** Options of `followRevocations()`. */
export interface FollowOptions {
  transport: Transport;
  onRevocation(revocation: Revocation): void;
  logger: Logger;
  signal: AbortSignal;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Read the stream from its start, then follow it until `signal` aborts.
 * `caughtUp` resolves once every revocation written before the call has
 * been handed to `onRevocation`.
 * @throws {DtsError} from `caughtUp` when the stream cannot be declared or read
 */
export function followRevocations(
  options: FollowOptions,
): { caughtUp: Promise<void>; done: Promise<void> } {
  const { logger, signal } = options;
  const clock = options.clock ?? systemClock;
  const caughtUp = Promise.withResolvers<void>();
  const done = (async () => {
    // A read that fails (the stream not started yet after a broker restart,
    // a consumer cancelled) starts over from the first entry: applying a
    // revocation twice changes nothing.
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        await readOnce(options, () => {
          caughtUp.resolve();
          if (failures > 0) {
            logger.info("Revocations are followed again", { stream: REVOCATION_STREAM });
          }
          failures = 0;
        });
        return; // ended by the signal or by the transport closing
      } catch (error) {
        if (signal.aborted) return;
        const problem = new DtsError(
          `Cannot read the revocations in stream "${REVOCATION_STREAM}": ${
            (error as Error).message
          }`,
          { cause: error },
        );
        // The worker goes on without (asking live workers instead); said once per outage.
        caughtUp.reject(problem);
        if (failures === 0) {
          logger.warn(
            "Revocations are not followed for now; reading them again in the background",
            {
              error: problem.message,
            },
          );
        } else logger.debug("Still cannot read the revocations", { error: problem.message });
        await clock.sleep(
          backoffDelayMs(failures, { baseMs: 500, factor: 2, maxMs: 10_000 }),
          signal,
        ).catch(() => {});
      }
    }
  })();
  caughtUp.promise.catch(() => {});
  return { caughtUp: caughtUp.promise, done };
}

/** Read the stream's last 3 hours, with a marker of our own to know when we caught up. */
async function readOnce(options: FollowOptions, onCaughtUp: () => void): Promise<void> {
  const { transport, signal } = options;
  const marker = crypto.randomUUID();
  // This read's own signal: a read that failed half-way (its marker not
  // published) must not go on beside the next one.
  const reader = new AbortController();
  const stop = () => reader.abort();
  signal.addEventListener("abort", stop, { once: true });
  try {
    await openRevocationLog(transport, { clock: options.clock, signal });
    // What is older than a revocation's lifetime counts no more: not read at all (each
    // entry costs a starting worker about 0.2 ms of the broker's delivery).
    const entries = transport.readStream(REVOCATION_STREAM, {
      from: { sinceMs: REVOKE_EXPIRES_MS },
      signal: reader.signal,
    });
    const reading = read(entries, marker, options, onCaughtUp);
    reading.catch(() => {});
    await transport.publish(REVOCATION_STREAM, encodeEntry({ kind: "marker", id: marker }), {
      headers: {},
      contentType: "application/json",
      persistent: true,
    });
    await reading;
  } finally {
    signal.removeEventListener("abort", stop);
    reader.abort();
  }
}

async function read(
  entries: AsyncIterable<StreamEntry>,
  marker: string,
  options: FollowOptions,
  onCaughtUp: () => void,
): Promise<void> {
  for await (const { body } of entries) {
    const entry = decodeEntry(body);
    if (entry === null) continue;
    if (entry.kind === "marker") {
      if (entry.id === marker) onCaughtUp();
      continue;
    }
    try {
      options.onRevocation(entry.revocation);
    } catch (error) {
      options.logger.warn("A revocation could not be applied", { error });
    }
  }
}
