/**
 * The dispatcher: send jobs concurrently, follow them through their result
 * messages, and yield what happens as `TaskEvent`s. It formats nothing.
 * @module
 */
import type { EventEmitter } from "../events/event_emitter.ts";
import { closeReplyQueue, openReplyQueue } from "../client/reply_queue.ts";
import { TaskSender } from "../client/send_task.ts";
import { type Clock, systemClock, within } from "../clock.ts";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import { TRACK_STARTED_HEADER } from "../protocol/dts_headers.ts";
import type { TaskEvent } from "../report/task_event.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { EventChannel } from "./event_channel.ts";
import { type EventJournal, ReplyCollector } from "./reply_collector.ts";

/** One task to send. */
export interface DispatchJob {
  task: string;
  queue: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** The task id. @default a fresh UUID */
  id?: string;
  /** AMQP priority of the message. @default 0 */
  priority?: number;
  /** Its queue is a priority queue with this `x-max-priority` (declared so when missing). */
  maxPriority?: number;
}

/** How to run a dispatch. */
export interface DispatchOptions {
  transport: Transport;
  jobs: readonly DispatchJob[];
  /** Per task, from its send: no final result by then → TIMEOUT. */
  timeoutMs: number;
  /** Ask workers for STARTED notes (RECEIVED/STARTED events). @default true */
  trackStarted?: boolean;
  /**
   * Aborting (SIGINT, SIGTERM) stops waiting at once: tasks without a final
   * result end as INTERRUPTED. Already aborted: nothing is sent.
   */
  signal?: AbortSignal;
  /** Deadlines, timestamps and waits. @default systemClock */
  clock?: Clock;
  /** How task queues are declared when missing (the workers' `worker.queue_type`). @default classic */
  queueOptions?: TaskQueueOptions;
  /** Publish attempts per task across broker hiccups. @default 5 */
  publishAttempts?: number;
  /** The reply queue to declare and collect from. @default `dts.reply.<uuid>` */
  replyQueue?: string;
  /**
   * How long the reply queue outlives its last consumer. A caller that keeps
   * a journal passes `replyQueueExpiresMs(timeoutMs)`, so a resume can come
   * back for the results. @default timeoutMs + 5 minutes
   */
  replyQueueExpiresMs?: number;
  /** Every event is recorded here; a result is acknowledged only once it is. */
  journal?: EventJournal | null;
  /** Told once when the journal cannot be written; those results stay in the reply queue. */
  onJournalError?: (error: unknown) => void;
  /**
   * Leave the reply queue to the caller: to delete once the results are
   * saved, or to keep for `--resume` after an interrupt. @default false (deleted at the end)
   */
  keepReplyQueue?: boolean;
  /** Send Celery's `task-sent` event for each task (`dispatch.events`). @default none */
  sentEvents?: EventEmitter | null;
}

/** Send every job at once and yield each state change until all are final. */
export function dispatch(options: DispatchOptions): AsyncIterable<TaskEvent> {
  const events = new EventChannel<TaskEvent>();
  runDispatch(options, events).then(() => events.close(), (error) => events.close(error));
  return events;
}

async function runDispatch(
  options: DispatchOptions,
  events: EventChannel<TaskEvent>,
): Promise<void> {
  const { transport, jobs, timeoutMs } = options;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  if (jobs.length === 0 || options.signal?.aborted) return;

  const replyQueue = options.replyQueue ?? `dts.reply.${crypto.randomUUID()}`;
  // Durable and not exclusive: results published while we reconnect wait in
  // it, and a dispatcher killed outright leaves it (and them) for --resume.
  await openReplyQueue(transport, {
    name: replyQueue,
    timeoutMs,
    expiresMs: options.replyQueueExpiresMs,
    type: options.queueOptions?.type,
  });
  try {
    const sender = new TaskSender({
      transport,
      queueOptions: options.queueOptions,
      attempts: options.publishAttempts,
      clock,
      sentEvents: options.sentEvents,
    });
    for (const job of jobs) await sender.prepare(job.queue, { maxPriority: job.maxPriority });
    const collector = new ReplyCollector({
      transport,
      replyQueue,
      emit: (event) => events.push(event),
      journal: options.journal,
      onJournalError: options.onJournalError,
      clock,
    });
    const messages = jobs.map((job) =>
      createTaskMessage(job.task, {
        id: job.id,
        args: job.args,
        kwargs: job.kwargs,
        replyTo: replyQueue,
        priority: job.priority,
        headers: options.trackStarted === false ? {} : { [TRACK_STARTED_HEADER]: true },
      })
    );
    for (const [i, message] of messages.entries()) {
      const { task, queue } = jobs[i];
      const sentAt = now();
      collector.expect({
        id: message.id,
        task,
        queue,
        retries: 0,
        deadline: sentAt + timeoutMs,
        timeoutMs,
      });
      collector.note({ type: "SENT", id: message.id, task, queue, at: sentAt });
    }
    const collecting = collector.collect({ signal: options.signal });
    const publishing = Promise.all(messages.map(async (message, i) => {
      try {
        await sender.send(jobs[i].queue, message);
      } catch (error) {
        collector.settle({
          type: "FAILURE",
          id: message.id,
          task: jobs[i].task,
          queue: jobs[i].queue,
          at: now(),
          error: { type: "PublishError", message: (error as Error).message },
          runtimeMs: null,
          worker: null,
          retries: 0,
        });
      }
    }));
    await collecting;
    // Interrupted: do not wait for publishes still retrying (closing the transport ends them).
    if (!options.signal?.aborted) await publishing;
  } finally {
    if (!options.keepReplyQueue) {
      const closing = closeReplyQueue(transport, replyQueue);
      // Interrupted: do not hold the exit up for a broker that does not answer (the queue expires).
      await (options.signal?.aborted ? within(closing, 1000, clock) : closing);
    }
  }
}
