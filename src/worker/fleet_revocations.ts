/**
 * A worker's side of revoke: what it knows is revoked (read from the
 * fleet's revocation stream at start, then followed; and from Celery's
 * broadcast `revoke`), and stopping the attempts a terminating revoke names.
 * @module
 */
import { TaskRevokedError } from "../attempt/attempt_runner.ts";
import { CANCELLED, type Clock } from "../clock.ts";
import { followRevocations, logRevocations, newRevocation } from "../control/revocation_log.ts";
import { type Revocation, RevokedSet } from "../control/revoked_set.ts";
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import type { InFlightTasks } from "./in_flight.ts";

/** How long a starting worker waits to have read the fleet's revocations. */
const CATCH_UP_MS = 10_000;

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
    if (waited instanceof Error) {
      this.#logger.warn("Starting without the fleet's revocations", {
        error: waited.message,
        effect: "tasks revoked before this worker started may run; broadcast revokes still apply",
      });
    } else if (waited === "slow") {
      this.#logger.warn("Still reading the fleet's revocations; starting anyway", {
        waited_ms: CATCH_UP_MS,
      });
    }
    return { done: following.done };
  }

  /** Honour a revocation: remember it, and stop its running attempts when it says terminate. */
  apply(revocation: Revocation): boolean {
    if (!this.#set.add(revocation)) return false;
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
  async command(command: RevokeCommand): Promise<void> {
    const now = this.#clock.now();
    const fresh = command.taskIds
      .map((id) => newRevocation(id, { terminate: command.terminate, reason: command.reason, now }))
      .filter((revocation) => this.apply(revocation));
    if (command.logged || fresh.length === 0) return;
    await logRevocations(this.#transport, fresh).catch((error) =>
      this.#logger.warn("Cannot write a broadcast revoke to the revocation stream", {
        error,
        effect: "workers that start later may run these tasks",
        ids: fresh.map((revocation) => revocation.taskId),
      })
    );
  }
}
