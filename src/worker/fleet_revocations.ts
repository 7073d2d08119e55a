/**
 * A worker's side of revoke: what it knows is revoked (read from the
 * fleet's revocation stream at start, then followed; and from Celery's
 * broadcast `revoke`), and stopping the attempts a terminating revoke names.
 * @module
 */
import { TaskRevokedError } from "../attempt/attempt_runner.ts";
import { CANCELLED, type Clock } from "../clock.ts";
import { followRevocations, logRevocations, newRevocation } from "../control/revocation_log.ts";
import { MAX_REVOKED, type Revocation, RevokedSet } from "../control/revoked_set.ts";
import { inspectWorkers } from "../client/inspect_workers.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import type { InFlightTasks } from "./in_flight.ts";

/** How long a starting worker waits to have read the fleet's revocations. */
const CATCH_UP_MS = 5_000;
/** How long it waits for the live workers' answers when it could not. */
const MINGLE_MS = 1_000;

/** What a broadcast `revoke` carries (Celery's arguments, and dts's own). */
export interface RevokeCommand {
  taskIds: string[];
  terminate: boolean;
  reason?: string;
  /** The sender wrote it to the stream already (`dts revoke`): do not write it again. */
  logged: boolean;
}

/** The revocations one worker honours. */
export class FleetRevocations {
  readonly #set: RevokedSet;
  readonly #transport: Transport;
  readonly #active: InFlightTasks;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #terminated = 0;
  #refused = 0;

  constructor(options: {
    transport: Transport;
    active: InFlightTasks;
    logger: Logger;
    clock: Clock;
  }) {
    this.#transport = options.transport;
    this.#active = options.active;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#set = new RevokedSet({ now: () => this.#clock.now() });
  }

  /** The revocation of a task, if it is revoked; counted as a refusal. */
  get(taskId: string): Revocation | undefined {
    const revocation = this.#set.get(taskId);
    if (revocation !== undefined) this.#refused++;
    return revocation;
  }

  /** Revoked task ids, oldest first (`inspect revoked`). */
  ids(): string[] {
    return this.#set.ids();
  }

  /** For `/metrics` and `stats`: known, refused at arrival, terminated while running. */
  counts(): { known: number; refused: number; terminated: number } {
    return { known: this.#set.size, refused: this.#refused, terminated: this.#terminated };
  }

  /**
   * Read the stream until caught up (or `CATCH_UP_MS`), then follow it in
   * `done` until `signal` aborts. A broker without streams (RabbitMQ before
   * 3.9) still gets broadcast revokes: the worker starts with a warning.
   */
  async follow(signal: AbortSignal): Promise<{ done: Promise<void> }> {
    const following = followRevocations({
      transport: this.#transport,
      logger: this.#logger,
      signal,
      clock: this.#clock,
      onRevocation: (revocation) => this.apply(revocation),
    });
    const cancel = new AbortController();
    const waited = await Promise.race([
      following.caughtUp.then(() => "caught up" as const),
      this.#clock.sleep(CATCH_UP_MS, cancel.signal).then(
        () => "slow" as const,
        () => "slow" as const,
      ),
    ]).catch((error: Error) => error);
    cancel.abort(CANCELLED);
    if (waited !== "caught up") {
      // Celery's answer, as a fallback: ask the live workers what they know.
      const learned = await this.#mingle();
      this.#logger.warn(
        "Cannot read the fleet's revocation stream; asked the live workers instead",
        {
          error: waited instanceof Error ? waited.message : `not read within ${CATCH_UP_MS} ms`,
          workers_answered: learned.workers,
          revocations_learned: learned.revocations,
          effect: learned.workers === 0
            ? "tasks revoked before this worker started may run; broadcast revokes still apply"
            : "revocations no live worker heard of may be missed",
        },
      );
    }
    return { done: following.done };
  }

  /** Celery's start-up "mingle": a `hello` broadcast; each answer lists what that worker knows is revoked. */
  async #mingle(): Promise<{ workers: number; revocations: number }> {
    const replies = await inspectWorkers(this.#transport, {
      method: "hello",
      arguments: { from_node: "dts", revoked: {} },
      timeoutMs: MINGLE_MS,
      clock: this.#clock,
    }).catch(() => new Map<string, unknown>());
    let revocations = 0;
    const now = this.#clock.now();
    for (const reply of replies.values()) {
      const revoked = (reply as { revoked?: unknown } | null)?.revoked;
      if (typeof revoked !== "object" || revoked === null) continue;
      // Celery's entries carry a monotonic clock, not a date: count from now.
      for (const id of Object.keys(revoked).slice(0, MAX_REVOKED)) {
        if (
          this.apply(newRevocation(id, { now, reason: "revoked (learned from a live worker)" }))
        ) {
          revocations++;
        }
      }
    }
    return { workers: replies.size, revocations };
  }

  /** Honour a revocation: remember it, and stop its running attempts when it says terminate. */
  apply(revocation: Revocation): boolean {
    if (!this.#set.add(revocation)) return false;
    // Waiting for a fleet-wide limit: it stops waiting, and is refused as revoked.
    this.#active.cancelWaiting(revocation.taskId, new TaskRevokedError(revocation.reason));
    if (revocation.terminate) {
      const stopped = this.#active.terminate(
        revocation.taskId,
        new TaskRevokedError(revocation.reason),
      );
      this.#terminated += stopped;
      if (stopped > 0) {
        this.#logger.warn("Terminating a revoked task", {
          id: revocation.taskId,
          reason: revocation.reason,
        });
      }
    }
    return true;
  }

  /**
   * A broadcast `revoke` (from `dts revoke` or Celery's `control.revoke`):
   * applied at once, and written to the stream unless its sender did, so
   * that workers that start later honour it too.
   */
  command(command: RevokeCommand): Promise<void> {
    const now = this.#clock.now();
    const fresh = command.taskIds
      .map((id) => newRevocation(id, { terminate: command.terminate, reason: command.reason, now }))
      .filter((revocation) => this.apply(revocation));
    if (command.logged || fresh.length === 0) return Promise.resolve();
    // Not awaited: a stream that is down must not hold up the remote-control loop.
    void logRevocations(this.#transport, fresh).catch((error) =>
      this.#logger.warn("Cannot write a broadcast revoke to the revocation stream", {
        error,
        effect: "workers that start later learn them only from live workers",
        ids: fresh.map((revocation) => revocation.taskId),
      })
    );
    return Promise.resolve();
  }
}
