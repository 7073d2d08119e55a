/**
 * The properties a dead letter is replayed with: a fresh start, as if it had
 * just been sent (retries 0, no eta), with every trace of its death removed.
 * @module
 */
import type { MessageProps } from "../transport/transport.ts";

/** Headers RabbitMQ adds when it dead-letters or redelivers a message itself. */
const BROKER_HEADERS = new Set(["x-death", "x-delivery-count"]);

/**
 * The properties of a dead letter's replay: `retries` 0, `eta` null, no `x-dts-*` or death
 * headers, and no `replyTo` unless `keepReplyTo` (the reply queue still exists: someone waits).
 */
export function replayProps(
  props: MessageProps,
  options: { keepReplyTo?: boolean } = {},
): MessageProps {
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props.headers)) {
    if (key.startsWith("x-dts-") || BROKER_HEADERS.has(key)) continue;
    if (key.startsWith("x-first-death-") || key.startsWith("x-last-death-")) continue;
    headers[key] = value;
  }
  // Only Celery task messages carry these; anything else is replayed as it was.
  if ("retries" in headers) headers.retries = 0;
  if ("eta" in headers) headers.eta = null;
  const { replyTo, ...rest } = props;
  return {
    ...rest,
    ...(options.keepReplyTo && replyTo !== undefined ? { replyTo } : {}),
    headers,
    persistent: true,
  };
}
