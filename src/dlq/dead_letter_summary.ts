/**
 * What a dead letter says about itself: why it died, from the `x-dts-*`
 * headers a worker writes, or from RabbitMQ's own `x-death` when the broker
 * dead-lettered it (a quorum queue's delivery limit).
 * @module
 */
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
}

/** Summarise a dead letter from its properties and body size. */
export function summarizeDeadLetter(props: MessageProps, bytes: number): DeadLetterSummary {
  const h = props.headers;
  const death = firstDeath(h["x-death"]);
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
    bytes,
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
