/**
 * The waiting half of a dispatch, on its own: what `--resume` runs after a
 * dispatcher died. Nothing is sent; the run's reply queue must exist.
 * @module
 */
import type { Clock } from "../clock.ts";
import type { TaskEvent } from "../report/task_event.ts";
import type { Transport } from "../transport/transport.ts";
import { EventChannel } from "./event_channel.ts";
import { type EventJournal, type ExpectedTask, ReplyCollector } from "./reply_collector.ts";

/** Options of `collectMissing()`. */
export interface CollectMissingOptions {
  transport: Transport;
  /** An existing reply queue (never declared here: a gone queue must not come back empty). */
  replyQueue: string;
  tasks: readonly ExpectedTask[];
  journal?: EventJournal | null;
  onJournalError?: (error: unknown) => void;
  /** Aborting stops waiting: the rest become INTERRUPTED. */
  signal?: AbortSignal;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Collect the results of `tasks` from `replyQueue`: first what waits there
 * already (whatever the deadlines), then live until each task is final.
 */
export function collectMissing(options: CollectMissingOptions): AsyncIterable<TaskEvent> {
  const events = new EventChannel<TaskEvent>();
  const collector = new ReplyCollector({
    transport: options.transport,
    replyQueue: options.replyQueue,
    emit: (event) => events.push(event),
    journal: options.journal,
    onJournalError: options.onJournalError,
    clock: options.clock,
  });
  for (const task of options.tasks) collector.expect(task);
  collector.collect({ signal: options.signal, drainFirst: true }).then(
    () => events.close(),
    (error) => events.close(error),
  );
  return events;
}
