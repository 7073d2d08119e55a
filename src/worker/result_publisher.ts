/**
 * Result messages a worker sends to a task's `reply_to` (Celery's rpc://
 * backend shape): progress notes (STARTED, RETRY) and final states.
 * @module
 */
import { type ErrorInfo, UnroutableError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import {
  type CeleryState,
  encodeException,
  encodeResultMessage,
  type ResultMessage,
} from "../protocol/celery_result_message.ts";
import type { TaskMessage } from "../protocol/celery_task_message.ts";
import type { Transport } from "../transport/transport.ts";

/** What publishing a result needs from the worker. */
export interface ResultContext {
  transport: Transport;
  workerName: string;
  logger: Logger;
  now(): number;
}

/** The fields of one result message besides the task's own. */
export interface ResultFields {
  status: CeleryState;
  result?: unknown;
  traceback?: string | null;
  retries?: number;
  runtimeMs?: number;
  delayMs?: number;
  queue: string;
  receivedAt?: string;
  startedAt?: string;
}

/** A final state: a value, or an error sent in Celery's exception encoding. */
export interface FinalFields {
  status: "SUCCESS" | "FAILURE" | "REVOKED";
  result?: unknown;
  error?: ErrorInfo;
  runtimeMs?: number;
  queue: string;
}

/** Publish a final state (the client asked for results); an error becomes Celery's exception encoding. */
export async function publishFinal(
  message: TaskMessage,
  ctx: ResultContext,
  fields: FinalFields,
): Promise<void> {
  if (message.replyTo === null || message.ignoreResult) return;
  const error = fields.error;
  await publishResult(message, ctx, {
    status: fields.status,
    result: error ? encodeException(error) : fields.result,
    traceback: error ? error.stack ?? null : null,
    runtimeMs: fields.runtimeMs,
    queue: fields.queue,
  });
}

/**
 * Publish one state of a task to its reply queue and wait for the confirm.
 * A reply queue that is gone (the client left) is logged, not an error.
 */
export async function publishResult(
  message: TaskMessage,
  ctx: ResultContext,
  fields: ResultFields,
): Promise<void> {
  if (message.replyTo === null) return;
  const result: ResultMessage = {
    taskId: message.id,
    status: fields.status,
    result: fields.result ?? null,
    traceback: fields.traceback ?? null,
    children: [],
    dateDone: new Date(ctx.now()).toISOString(),
    name: message.task,
    worker: ctx.workerName,
    retries: fields.retries ?? message.retries,
    queue: fields.queue,
    runtimeMs: fields.runtimeMs ?? null,
    delayMs: fields.delayMs ?? null,
    receivedAt: fields.receivedAt ?? null,
    startedAt: fields.startedAt ?? null,
  };
  const { body, props } = encodeResultMessage(result);
  try {
    await ctx.transport.publish(message.replyTo, body, { ...props, persistent: true });
  } catch (error) {
    if (!(error instanceof UnroutableError)) throw error;
    // Said once per task, for its outcome; a lost progress note (STARTED, RETRY) is only debug.
    const final = fields.status === "SUCCESS" || fields.status === "FAILURE" ||
      fields.status === "REVOKED";
    ctx.logger[final ? "warn" : "debug"](
      final ? "Result not delivered: the reply queue is gone" : "Progress not delivered",
      { id: message.id, reply_to: message.replyTo, status: fields.status },
    );
  }
}

/**
 * Tell the sender of a message that could not be decoded, when the message
 * says who sent it; best effort, since nothing else about it can be trusted.
 */
export async function publishMalformed(
  target: { id: string | undefined; replyTo: string | undefined; queue: string },
  reason: string,
  ctx: ResultContext,
): Promise<void> {
  if (!target.id || !target.replyTo) return;
  const { body, props } = encodeResultMessage({
    taskId: target.id,
    status: "FAILURE",
    result: encodeException({ type: "ProtocolError", message: reason }),
    traceback: null,
    children: [],
    dateDone: new Date(ctx.now()).toISOString(),
    worker: ctx.workerName,
    queue: target.queue,
  });
  await ctx.transport.publish(target.replyTo, body, { ...props, persistent: true }).catch(() => {});
}
