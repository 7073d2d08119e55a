/**
 * What a dead letter says about itself: why it died, from the `x-dts-*`
 * headers a worker writes, or from RabbitMQ's own `x-death` when the broker
 * dead-lettered it (a quorum queue's delivery limit).
 * @module
 */
import { decodeJsonBody } from "../protocol/json_body.ts";
import type { MessageProps } from "../transport/transport.ts";

/** One dead letter as `dts dlq list` shows it (snake_case: it is printed as JSON). */
export interface DeadLetterSummary {
  id: string | null;
  task: string | null;
  reason: string | null;
  error_type: string | null;
  error_message: string | null;
  retries: number | null;
  original_queue: string | null;
  dead_at: string | null;
  bytes: number;
  /** The task's positional arguments, when the body is a Celery protocol v2 message. */
  args: unknown[] | null;
  /** The task's keyword arguments, likewise. */
  kwargs: Record<string, unknown> | null;
}

/** Bodies above this are not parsed for their arguments (an oversized message is one reason to die). */
const MAX_PARSED_BYTES = 1024 * 1024;

/** Summarise a dead letter from its properties and body. */
export function summarizeDeadLetter(props: MessageProps, body: Uint8Array): DeadLetterSummary {
  const h = props.headers;
  const death = firstDeath(h["x-death"]);
  const { args, kwargs } = taskArguments(body, props);
  return {
    id: text(h.id) ?? text(props.correlationId) ?? text(props.messageId),
    task: text(h.task),
    reason: text(h["x-dts-reason"]) ?? text(h["x-first-death-reason"]) ?? text(death?.reason),
    error_type: text(h["x-dts-error-type"]),
    error_message: text(h["x-dts-error-message"]),
    retries: whole(h["x-dts-retries"]) ?? whole(h.retries),
    original_queue: text(h["x-dts-original-queue"]) ?? text(h["x-first-death-queue"]) ??
      text(death?.queue),
    dead_at: text(h["x-dts-dead-at"]) ?? deathTime(death?.time),
    bytes: body.byteLength,
    args,
    kwargs,
  };
}

/** `[args, kwargs, embed]` of a protocol v2 JSON body, or nulls for anything else. */
function taskArguments(
  body: Uint8Array,
  props: MessageProps,
): { args: unknown[] | null; kwargs: Record<string, unknown> | null } {
  const none = { args: null, kwargs: null };
  let payload: unknown;
  try {
    payload = decodeJsonBody(body, props, MAX_PARSED_BYTES);
  } catch {
    return none;
  }
  if (!Array.isArray(payload) || payload.length !== 3) return none;
  const [args, kwargs] = payload;
  return {
    args: Array.isArray(args) ? args : null,
    kwargs: typeof kwargs === "object" && kwargs !== null && !Array.isArray(kwargs)
      ? kwargs as Record<string, unknown>
      : null,
  };
}

function firstDeath(value: unknown): Record<string, unknown> | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const first = value[value.length - 1];
  return typeof first === "object" && first !== null ? first as Record<string, unknown> : null;
}

/** amqplib reads an AMQP timestamp as `{"!": "timestamp", value: seconds}`. */
function deathTime(value: unknown): string | null {
  const seconds = typeof value === "object" && value !== null
    ? (value as { value?: unknown }).value
    : value;
  return typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : null;
}

function text(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return null;
}

function whole(value: unknown): number | null {
  const n = typeof value === "object" && value !== null
    ? (value as { value?: unknown }).value
    : value;
  return typeof n === "number" && Number.isInteger(n) ? n : null;
}
