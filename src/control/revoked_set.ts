/**
 * The revocations a worker knows of: bounded in size and in age, as
 * Celery's own (`LimitedSet`, 50,000 entries, 3 hours), so a fleet that
 * revokes all day does not grow a worker's memory.
 * @module
 */

/** One revoked task. */
export interface Revocation {
  taskId: string;
  /** Stop it where it runs, not only where it waits. */
  terminate: boolean;
  reason: string;
  /** Epoch ms. */
  revokedAt: number;
  /** Epoch ms after which it no longer counts. */
  expiresAt: number;
}

/** At most this many are kept: Celery keeps as many (its `REVOKES_MAX`). */
export const MAX_REVOKED = 50_000;

/** What a worker knows is revoked, oldest first. */
export class RevokedSet {
  #entries = new Map<string, Revocation>();
  #maxSize: number;
  #now: () => number;

  constructor(options: { now: () => number; maxSize?: number }) {
    this.#now = options.now;
    this.#maxSize = options.maxSize ?? MAX_REVOKED;
  }

  /** Remember a revocation; false when it was known already or has expired. */
  add(revocation: Revocation): boolean {
    if (revocation.expiresAt <= this.#now()) return false;
    const known = this.#entries.get(revocation.taskId);
    // A terminating revoke after a plain one still has something to do.
    if (known !== undefined && (known.terminate || !revocation.terminate)) return false;
    this.#entries.delete(revocation.taskId);
    this.#entries.set(revocation.taskId, revocation);
    this.#trim();
    return true;
  }

  /** The revocation of a task, unless there is none or it expired. */
  get(taskId: string): Revocation | undefined {
    const revocation = this.#entries.get(taskId);
    if (revocation === undefined) return undefined;
    if (revocation.expiresAt > this.#now()) return revocation;
    this.#entries.delete(taskId);
    return undefined;
  }

  /** How many are kept (expired ones included until trimmed). */
  get size(): number {
    this.#trim();
    return this.#entries.size;
  }

  /** The revoked task ids, oldest first. */
  ids(): string[] {
    this.#trim();
    return [...this.#entries.keys()];
  }

  #trim(): void {
    const now = this.#now();
    for (const [id, revocation] of this.#entries) {
      // Insertion order is revocation order: the oldest go first.
      if (this.#entries.size <= this.#maxSize && revocation.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }
}
