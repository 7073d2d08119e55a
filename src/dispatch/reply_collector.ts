/**
 * Waiting for results in a reply queue: the part a dispatch and a
 * `--resume` share. Each task ends exactly once: with its result, TIMEOUT at
 * its deadline, or INTERRUPTED when the signal aborts first.
 * @module
 */
import { Deadlines } from "../client/deadlines.ts";
import { ReplyInbox } from "../client/reply_inbox.ts";
import { type Clock, systemClock } from "../clock.ts";
import { decodeEntry, openRevocationLog, REVOCATION_STREAM } from "../control/revocation_log.ts";
import type { Revocation } from "../control/revoked_set.ts";
import { isFinalEvent, type TaskEvent } from "../report/task_event.ts";
import type { Delivery, Transport } from "../transport/transport.ts";
import type { JournalRecord } from "./journal_record.ts";
import { type FollowedTask, resultEvents } from "./result_events.ts";

/** A task to wait for. */
export interface ExpectedTask extends FollowedTask {
  id: string;
  /** Epoch ms: no final result by then → TIMEOUT. */
  deadline: number;
  /** Named in the TIMEOUT message. */
  timeoutMs: number;
  /**
   * Not sent yet: it waits for other jobs, so no deadline runs until
   * `release()`, and an interrupt ends it SKIPPED, not INTERRUPTED.
   */
  held?: boolean;
}

/** Where events are recorded durably before their result message is acknowledged. */
export interface EventJournal {
  append(records: readonly JournalRecord[]): Promise<void>;
}

/** Options of `ReplyCollector`. */
export interface ReplyCollectorOptions {
  transport: Transport;
  replyQueue: string;
  /** Receives every event, in order. */
  emit: (event: TaskEvent) => void;
  /** With a journal, a result is acknowledged only once its events are in it. */
  journal?: EventJournal | null;
  /** Told once, at the first journal write that fails; those results stay unacknowledged. */
  onJournalError?: (error: unknown) => void;
  /** Deadlines and timestamps. @default systemClock */
  clock?: Clock;
}

/** Follows tasks through their result messages; see the module notes. */
export class ReplyCollector {
  readonly #options: ReplyCollectorOptions;
  readonly #clock: Clock;
  readonly #tasks = new Map<string, ExpectedTask & { done: boolean; started: boolean }>();
  readonly #writes = new Set<Promise<unknown>>();
  readonly #allDone = Promise.withResolvers<void>();
  #remaining = 0;
  #journalFailed = false;
  /** While collecting: the deadlines of the tasks not yet final. */
  #deadlines: Deadlines<string> | null = null;

  constructor(options: ReplyCollectorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Tasks not yet final. */
  get remaining(): number {
    return this.#remaining;
  }

  /** Wait for `task` too. */
  expect(task: ExpectedTask): void {
    if (this.#tasks.has(task.id)) return;
    this.#tasks.set(task.id, { ...task, done: false, started: false });
    this.#remaining++;
    this.#deadlines?.add(task.id, task.deadline);
  }

  /** Emit and journal an event that settles nothing (SENT, WAITING); resolves once journaled. */
  note(event: TaskEvent): Promise<void> {
    this.#options.emit(event);
    const written = this.#write([event]);
    this.#track(written);
    return written.catch(() => {});
  }

  /** A held task is being sent: its deadline starts now. */
  release(id: string, deadline: number): void {
    const task = this.#tasks.get(id);
    if (!task || task.done || !task.held) return;
    task.held = false;
    task.deadline = deadline;
    this.#deadlines?.add(id, deadline);
  }

  /** End a task with `event` (from outside: a publish that failed for good); ignored when it ended already. */
  settle(event: TaskEvent): void {
    if (this.#finish(event)) this.#track(this.#write([event]));
  }

  /**
   * A revocation from the fleet's stream: a task of ours that no worker has
   * started ends REVOKED now, since none will run it. A started one is its
   * worker's to end: REVOKED at once with terminate, else it runs on, as in
   * Celery.
   */
  revoked(revocation: Revocation): void {
    const task = this.#tasks.get(revocation.taskId);
    if (!task || task.done || task.started) return;
    this.settle({
      type: "REVOKED",
      id: task.id,
      task: task.task,
      queue: task.queue,
      at: this.#clock.now(),
      error: { type: "TaskRevokedError", message: revocation.reason },
      runtimeMs: null,
      worker: null,
      retries: task.retries,
    });
  }

  /**
   * Collect until every task is final, the signal aborts (the rest become
   * INTERRUPTED) or deadlines pass (TIMEOUT). With `drainFirst`, what already
   * waits in the queue is taken before any deadline applies (a resume after
   * the deadline still gets the results that came in time).
   */
  async collect(options: { signal?: AbortSignal; drainFirst?: boolean } = {}): Promise<void> {
    const { signal } = options;
    const inbox = new ReplyInbox({
      transport: this.#options.transport,
      name: this.#options.replyQueue,
      clock: this.#clock,
      onReply: (delivery) => this.#onDelivery(delivery),
    });
    const deadlines = new Deadlines<string>(this.#clock, this.#tickMs(), (id) => this.#expire(id));
    this.#deadlines = deadlines;
    const aborted = Promise.withResolvers<void>();
    const onAbort = () => aborted.resolve();
    signal?.addEventListener("abort", onAbort, { once: true });
    const following = new AbortController();
    const revocations = this.#followRevocations(following.signal);
    try {
      if (this.#remaining > 0 && !signal?.aborted) {
        if (options.drainFirst) await inbox.drain(() => this.#remaining > 0 && !signal?.aborted);
        inbox.start();
        for (const task of this.#tasks.values()) {
          if (!task.done && !task.held) deadlines.add(task.id, task.deadline);
        }
        deadlines.sweepNow();
        await Promise.race([this.#allDone.promise, aborted.promise]);
      }
      if (signal?.aborted) this.#interruptAll(signal.reason);
    } finally {
      following.abort();
      await revocations;
      this.#deadlines = null;
      deadlines.close();
      signal?.removeEventListener("abort", onAbort);
      // Unsettled deliveries go back to the queue when the transport closes.
      await inbox.stop();
      while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
    }
  }

  /**
   * Revocations made while collecting, from the fleet's stream, so that a
   * revoked task that waits in a queue or a delay ends now, not when a
   * worker reaches it. Without streams (RabbitMQ before 3.9) workers still
   * answer REVOKED when they take the task.
   */
  async #followRevocations(signal: AbortSignal): Promise<void> {
    const { transport } = this.#options;
    try {
      await openRevocationLog(transport, { clock: this.#clock, signal });
      for await (
        const { body } of transport.readStream(REVOCATION_STREAM, { from: "next", signal })
      ) {
        const entry = decodeEntry(body);
        if (entry?.kind === "revocation") this.revoked(entry.revocation);
      }
    } catch {
      // Nothing lost: the workers' REVOKED results still come.
    }
  }

  /** The events of one reply; resolves once they may be acknowledged (journaled). */
  #onDelivery(delivery: Delivery): Promise<void> | void {
    const events = resultEvents(delivery, (id) => {
      const task = this.#tasks.get(id);
      return task && !task.done ? task : undefined;
    });
    // Not ours, or a duplicate after a redelivery: nothing to record.
    if (events.length === 0) return;
    for (const event of events) {
      if (isFinalEvent(event)) {
        this.#finish(event);
        continue;
      }
      const task = this.#tasks.get(event.id)!;
      if (event.type === "RETRY") task.retries = event.retries;
      // A retry waits in a delay again, no longer on a worker.
      task.started = event.type === "RECEIVED" || event.type === "STARTED";
      this.#options.emit(event);
    }
    // ACK ONLY ONCE THE JOURNAL HAS THE RESULT: a crash in between redelivers it to a resume.
    const written = this.#write(events);
    this.#track(written);
    return written;
  }

  #finish(event: TaskEvent): boolean {
    const task = this.#tasks.get(event.id);
    if (!task || task.done) return false;
    task.done = true;
    this.#deadlines?.remove(event.id);
    this.#options.emit(event);
    if (--this.#remaining === 0) this.#allDone.resolve();
    return true;
  }

  #expire(id: string): void {
    const task = this.#tasks.get(id);
    if (!task || task.done) return;
    this.settle({
      type: "TIMEOUT",
      id: task.id,
      task: task.task,
      queue: task.queue,
      at: this.#clock.now(),
      error: { type: "TimeoutError", message: `No result within ${task.timeoutMs} ms` },
      retries: task.retries,
    });
  }

  #interruptAll(reason: unknown): void {
    const by = typeof reason === "string" && reason !== "" ? reason : "a signal";
    const now = this.#clock.now();
    for (const task of this.#tasks.values()) {
      if (task.done) continue;
      if (task.held) {
        this.settle({
          type: "SKIPPED",
          id: task.id,
          task: task.task,
          queue: task.queue,
          at: now,
          error: {
            type: "DependencyError",
            message: `dispatch interrupted by ${by} while it waited for the jobs it comes after`,
          },
          retries: 0,
        });
        continue;
      }
      this.settle({
        type: "INTERRUPTED",
        id: task.id,
        task: task.task,
        queue: task.queue,
        at: now,
        error: {
          type: "InterruptedError",
          message: `dispatch interrupted by ${by} before a result arrived`,
        },
        retries: task.retries,
      });
    }
  }

  /** Resolves once `events` are in the journal; rejects (after telling `onJournalError`) when they cannot be. */
  #write(events: readonly TaskEvent[]): Promise<void> {
    const journal = this.#options.journal;
    if (!journal) return Promise.resolve();
    return journal.append(events.map((event) => ({ kind: "event", event }))).catch((error) => {
      if (!this.#journalFailed) {
        this.#journalFailed = true;
        this.#options.onJournalError?.(error);
      }
      throw error;
    });
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch(() => {}).finally(() => this.#writes.delete(tracked));
    this.#writes.add(tracked);
  }

  #tickMs(): number {
    let shortest = Infinity;
    for (const task of this.#tasks.values()) shortest = Math.min(shortest, task.timeoutMs);
    return Math.max(10, Math.min(100, shortest / 4));
  }
}
