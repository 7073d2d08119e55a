/**
 * Celery remote control ("pidbox", kombu 5.2 `pidbox.py`): requests such as
 * `ping` are broadcast on the fanout exchange `celery.pidbox`; each worker that
 * is addressed replies `{"<worker>": value}` on the direct exchange
 * `reply.celery.pidbox` with the routing key from the request's `reply_to`,
 * and the request's `ticket` in its headers.
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { MessageProps } from "../transport/transport.ts";
import { decodeJsonBody, encodeJsonBody, JSON_CONTENT_TYPE, UTF8_ENCODING } from "./json_body.ts";

/** Fanout exchange of remote-control requests. */
export const PIDBOX_EXCHANGE = "celery.pidbox";
/** Direct exchange of remote-control replies. */
export const PIDBOX_REPLY_EXCHANGE = "reply.celery.pidbox";

/** One remote-control request. */
export interface ControlRequest {
  /** Command, e.g. `ping`. */
  method: string;
  arguments: Record<string, unknown>;
  /** Worker names to address; null for all. */
  destination: string[] | null;
  /** Matches replies to this request; "" when no reply is wanted. */
  ticket: string;
  /** Where replies go; null for a command without replies. */
  replyTo: { exchange: string; routingKey: string } | null;
  pattern?: string | null;
  matcher?: string | null;
}

/**
 * Encode a request as `celery inspect` does. Headers: `clock` (int) and `expires`
 * (epoch seconds; 0 means never, as kombu writes without a timeout).
 */
export function encodeControlRequest(
  request: ControlRequest,
  options: { expiresAt?: number; clock?: number } = {},
): { body: Uint8Array; props: MessageProps } {
  const wire: Record<string, unknown> = {
    method: request.method,
    arguments: request.arguments,
    destination: request.destination,
    pattern: request.pattern ?? null,
    matcher: request.matcher ?? null,
  };
  if (request.replyTo !== null) {
    wire.ticket = request.ticket;
    wire.reply_to = { exchange: request.replyTo.exchange, routing_key: request.replyTo.routingKey };
  }
  const headers = { clock: options.clock ?? 1, expires: expiresHeader(options.expiresAt) };
  return { body: encodeJsonBody(wire), props: jsonProps(headers, true) };
}

/**
 * kombu writes `expires` as a Python float, on the wire an AMQP double (`d`). The
 * transport types an integral JS number as an integer (`I`, or `l` past int32) and
 * any other number as `d`; so an integral expiry gets 1 ms added to stay a
 * non-integer number and reach the wire as a double, as Celery's does.
 */
function expiresHeader(expiresAt: number | undefined): number {
  if (expiresAt === undefined || expiresAt === 0) return 0;
  return Number.isInteger(expiresAt) ? expiresAt + 0.001 : expiresAt;
}

/**
 * Decode a remote-control request.
 * @throws {ProtocolError} when the body is not JSON, not an object, or has no method
 */
export function decodeControlRequest(body: Uint8Array, props: MessageProps): ControlRequest {
  const wire = decodeObject(body, props, "control request");
  if (typeof wire.method !== "string" || wire.method === "") {
    fail("control request", '"method" must be a non-empty string');
  }
  const args = wire.arguments ?? {};
  if (!isRecord(args)) fail("control request", '"arguments" must be an object');
  const destination = wire.destination ?? null;
  if (destination !== null && !(Array.isArray(destination) && destination.every(isString))) {
    fail("control request", '"destination" must be a list of worker names or null');
  }
  return {
    method: wire.method,
    arguments: args,
    destination,
    ticket: typeof wire.ticket === "string" ? wire.ticket : "",
    replyTo: replyToOf(wire.reply_to),
    pattern: typeof wire.pattern === "string" ? wire.pattern : null,
    matcher: typeof wire.matcher === "string" ? wire.matcher : null,
  };
}

function replyToOf(value: unknown): ControlRequest["replyTo"] {
  if (!isRecord(value)) return null;
  const { exchange, routing_key: routingKey } = value;
  if (typeof exchange !== "string" || typeof routingKey !== "string" || routingKey === "") {
    return fail("control request", '"reply_to" must hold "exchange" and "routing_key"');
  }
  return { exchange, routingKey };
}

/**
 * Encode one worker's reply, `{"<worker>": value}`, as kombu's `_publish_reply` does:
 * transient, headers `ticket` and `clock`.
 */
export function encodeControlReply(
  worker: string,
  value: unknown,
  ticket: string,
  options: { clock?: number } = {},
): { body: Uint8Array; props: MessageProps } {
  const headers = { ticket, clock: options.clock ?? 1 };
  return { body: encodeJsonBody({ [worker]: value }), props: jsonProps(headers, false) };
}

/**
 * Decode a reply: the `ticket` header (null when absent) and `{worker: value}`.
 * @throws {ProtocolError} when the body is not a JSON object
 */
export function decodeControlReply(
  body: Uint8Array,
  props: MessageProps,
): { ticket: string | null; replies: Record<string, unknown> } {
  const replies = decodeObject(body, props, "control reply");
  const ticket = props.headers?.ticket;
  return { ticket: typeof ticket === "string" ? ticket : null, replies };
}

function jsonProps(headers: Record<string, unknown>, persistent: boolean): MessageProps {
  return {
    headers,
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: UTF8_ENCODING,
    priority: 0,
    persistent,
  };
}

function decodeObject(
  body: Uint8Array,
  props: MessageProps,
  what: string,
): Record<string, unknown> {
  const wire = decodeJsonBody(body, props);
  if (!isRecord(wire)) return fail(what, "body must be a JSON object");
  return wire;
}

function fail(what: string, reason: string): never {
  throw new ProtocolError(`Cannot decode ${what}: ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}
