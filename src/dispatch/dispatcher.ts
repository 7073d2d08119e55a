/**
 * The dispatcher: send jobs concurrently, follow them through their result
 * messages, and yield what happens as `TaskEvent`s. It formats nothing.
 * A job that comes `after` others is held (WAITING) until they end, then
 * sent or skipped as the `JobGraph` decides, in the same run and reply queue.
 * @module
 */
import type { EventEmitter } from "../events/event_emitter.ts";
import { closeReplyQueue, openReplyQueue } from "../client/reply_queue.ts";
import { TaskSender } from "../client/send_task.ts";
import { type Clock, systemClock, within } from "../clock.ts";
import { createTaskMessage, type TaskMessage } from "../protocol/celery_task_message.ts";
import { TRACK_STARTED_HEADER } from "../protocol/dts_headers.ts";
import { type FinalStatus, isFinalEvent, type TaskEvent } from "../report/task_event.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import { EventChannel } from "./event_channel.ts";
import { type GraphStep, type GraphTask, JobGraph } from "./job_graph.ts";
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
  /** Its config job's `id`: what other jobs' `after` and `argsFrom` name. */
  job?: string;
  /** Job ids whose every task must end before this one is sent. @default [] */
  after?: readonly string[];
  /** A job in `after` whose result (a list when it has several tasks) comes first in args. */
  argsFrom?: string;
  /** When a job in `after` did not fully succeed: skip this one, or send it anyway. @default skip */
  onFailure?: "skip" | "continue";
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
  const { transport, timeoutMs, signal } = options;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  if (options.jobs.length === 0 || signal?.aborted) return;
  const jobs = options.jobs.map((job) => ({ ...job, id: job.id ?? crypto.randomUUID() }));

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
    const graph = new JobGraph(jobs);
    const publishing = new Set<Promise<void>>();
    const collector: ReplyCollector = new ReplyCollector({
      transport,
      replyQueue,
      emit: (event) => {
        events.push(event);
        // Interrupted: nothing more is sent; the held tasks end SKIPPED.
        if (graph.ordered && isFinalEvent(event) && !signal?.aborted) {
          const result = event.type === "SUCCESS" ? event.result : null;
          follow(graph.settle(event.id, event.type as FinalStatus, result));
        }
      },
      journal: options.journal,
      onJournalError: options.onJournalError,
      clock,
    });
    const follow = (step: GraphStep) => {
      for (const job of step.send) {
        const message = messageOf(job, replyQueue, options.trackStarted);
        const sentAt = now();
        collector.release(job.id, sentAt + timeoutMs);
        // Journaled before it is published: a resume must know it was sent.
        const noted = collector.note(sentEvent(job, sentAt));
        publish(job, message, noted);
      }
      for (const { task, reason } of step.skip) {
        collector.settle({
          type: "SKIPPED",
          id: task.id,
          task: task.task,
          queue: task.queue,
          at: now(),
          error: { type: "DependencyError", message: reason },
          retries: 0,
        });
      }
    };
    const publish = (job: GraphTask, message: TaskMessage, after?: Promise<void>) => {
      const sending = (async () => {
        try {
          await after;
          await sender.send(job.queue, message);
        } catch (error) {
          collector.settle({
            type: "FAILURE",
            id: message.id,
            task: job.task,
            queue: job.queue,
            at: now(),
            error: { type: "PublishError", message: (error as Error).message },
            runtimeMs: null,
            worker: null,
            retries: 0,
          });
        }
      })();
      publishing.add(sending);
    };
    const first = graph.initial();
    const messages = first.map((job) => messageOf(job, replyQueue, options.trackStarted));
    for (const job of first) {
      const sentAt = now();
      collector.expect({
        id: job.id,
        task: job.task,
        queue: job.queue,
        retries: 0,
        deadline: sentAt + timeoutMs,
        timeoutMs,
      });
      collector.note(sentEvent(job, sentAt));
    }
    for (const job of jobs) {
      if (!graph.isHeld(job.id)) continue;
      collector.expect({
        id: job.id,
        task: job.task,
        queue: job.queue,
        retries: 0,
        deadline: Infinity,
        timeoutMs,
        held: true,
      });
      collector.note({ type: "WAITING", ...taskPlace(job), at: now() });
    }
    const collecting = collector.collect({ signal });
    first.forEach((job, i) => publish(job, messages[i]));
    await collecting;
    // Interrupted: do not wait for publishes still retrying (closing the transport ends them).
    while (!signal?.aborted && publishing.size > 0) {
      const pending = [...publishing];
      publishing.clear();
      await Promise.all(pending);
    }
  } finally {
    if (!options.keepReplyQueue) {
      const closing = closeReplyQueue(transport, replyQueue);
      // Interrupted: do not hold the exit up for a broker that does not answer (the queue expires).
      await (signal?.aborted ? within(closing, 1000, clock) : closing);
    }
  }
}

function messageOf(job: GraphTask, replyTo: string, trackStarted = true): TaskMessage {
  return createTaskMessage(job.task, {
    id: job.id,
    args: job.args,
    kwargs: job.kwargs,
    replyTo,
    priority: job.priority,
    headers: trackStarted ? { [TRACK_STARTED_HEADER]: true } : {},
  });
}

/** The event fields naming the task, with its place in the job graph when it has one. */
function taskPlace(job: GraphTask) {
  return {
    id: job.id,
    task: job.task,
    queue: job.queue,
    ...(job.job === undefined ? {} : { job: job.job }),
    ...(job.after === undefined || job.after.length === 0 ? {} : { after: [...job.after] }),
  };
}

function sentEvent(job: GraphTask, at: number): TaskEvent {
  return { type: "SENT", ...taskPlace(job), at };
}
