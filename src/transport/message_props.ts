/**
 * Building `MessageProps` for publishes and dead letters, shared by both
 * transports so they carry exactly the same fields.
 * @module
 */

import { UsageError } from "../errors.ts";
import {
  MAX_DELAY_MS,
  type MessageProps,
  type PublishOptions,
  type QueueOptions,
  type TaskQueueOptions,
} from "./transport.ts";

/** The message properties of a publish: only the fields that were given, `persistent` only when true. */
export function toMessageProps(options: PublishOptions): MessageProps {
  const props: MessageProps = { headers: options.headers ?? {} };
  if (options.contentType !== undefined) props.contentType = options.contentType;
  if (options.contentEncoding !== undefined) props.contentEncoding = options.contentEncoding;
  if (options.correlationId !== undefined) props.correlationId = options.correlationId;
  if (options.replyTo !== undefined) props.replyTo = options.replyTo;
  if (options.messageId !== undefined) props.messageId = options.messageId;
  if (options.priority !== undefined) props.priority = options.priority;
  if (options.persistent) props.persistent = true;
  return props;
}

/** What a dead letter carries: the original properties plus `x-dts-reason`, `x-dts-dead-at` and `x-dts-original-queue`. */
export function deadLetterProps(
  props: MessageProps,
  dead: { queue: string; reason: string; at: number; headers?: Record<string, unknown> },
): MessageProps {
  return {
    ...props,
    headers: {
      ...props.headers,
      ...dead.headers,
      "x-dts-reason": dead.reason,
      "x-dts-dead-at": new Date(dead.at).toISOString(),
      "x-dts-original-queue": dead.queue,
    },
  };
}

/**
 * Check a plain queue's options, the same for every transport.
 * @throws {RangeError} for a quorum queue that is not durable or is auto-delete
 */
export function checkQueueOptions(queue: string, options: QueueOptions): void {
  if (options.type === "quorum" && (options.durable === false || options.autoDelete === true)) {
    throw new RangeError(
      `Cannot declare queue "${queue}": a quorum queue is durable and never auto-delete`,
    );
  }
}

/**
 * Check a task queue's options, the same for every transport.
 * @throws {UsageError} for a quorum queue with a max priority (RabbitMQ 3.10 has none)
 */
export function checkTaskQueueOptions(queue: string, options: TaskQueueOptions): void {
  if (options.type === "quorum" && options.maxPriority !== undefined) {
    throw new UsageError(
      `Cannot declare task queue "${queue}" with max_priority ${options.maxPriority}: ` +
        `a priority queue must be classic (RabbitMQ before 3.12 has no priorities in quorum queues); ` +
        `drop tasks.<key>.max_priority or set worker.queue_type: classic`,
    );
  }
}

/**
 * Check a consumer's prefetch (0 means unlimited, as in AMQP).
 * @throws {RangeError} when it is not an integer in 0..65535
 */
export function checkPrefetch(prefetch: number): void {
  if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 65535) {
    throw new RangeError(`Cannot consume with prefetch ${prefetch}: must be an integer 0..65535`);
  }
}

/**
 * What is wrong with a publish's delay, or null: delays need the default
 * exchange and must be within 0..`MAX_DELAY_MS`.
 */
export function delayProblem(exchange: string, delayMs: number): Error | null {
  if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    return new RangeError(
      `Cannot delay a publish by ${delayMs} ms: must be 0..${MAX_DELAY_MS} ms (about 49 days)`,
    );
  }
  if (delayMs > 0 && exchange !== "") {
    return new TypeError(
      `Cannot delay a publish to exchange "${exchange}": delays need the default exchange`,
    );
  }
  return null;
}

/**
 * Headers the broker adds on its way (dead-letter history, quorum delivery
 * counts): true of one delivery only, so a copy or re-publish leaves them out.
 */
export function isBrokerHeader(name: string): boolean {
  return name === "x-death" || name === "x-delivery-count" || name.startsWith("x-first-death-") ||
    name.startsWith("x-last-death-");
}

/** The properties of a copy of a delivered message: its own headers, `headers` merged in. */
export function copyProps(
  props: MessageProps,
  headers: Record<string, unknown> = {},
): MessageProps {
  const own: Record<string, unknown> = {};
  for (const name in props.headers) {
    if (!isBrokerHeader(name)) own[name] = props.headers[name];
  }
  return { ...props, headers: { ...own, ...headers } };
}
