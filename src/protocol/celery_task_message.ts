/**
 * Celery task messages, protocol v2, JSON only (shaped as in Celery 5.2's
 * `app/amqp.py` `as_task_v2`, checked against captured messages).
 *
 * On the wire: the headers carry the task's identity and options (`task`, `id`,
 * `retries`, `eta`, …); the body is `[args, kwargs, embed]`; `correlation_id` is
 * the task id and `reply_to` the client's rpc:// reply queue. Checks are written
 * by hand: encode and decode run once per task on the hot path.
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { type MessageProps, UNDECODABLE_HEADER } from "../transport/transport.ts";
import {
  decodeJsonBody,
  DEFAULT_MAX_BODY_BYTES,
  encodeJsonBody,
  JSON_CONTENT_TYPE,
  UTF8_ENCODING,
} from "./json_body.ts";
import { isBrokerHeader } from "../transport/message_props.ts";
import { pyRepr } from "./py_repr.ts";

/** One task message, decoded. */
export interface TaskMessage {
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  retries: number;
  /** ISO-8601; run no earlier than this. */
  eta: string | null;
  /** ISO-8601; drop the task after this. */
  expires: string | null;
  rootId: string;
  parentId: string | null;
  group: string | null;
  /** `[hard, soft]` time limits in seconds. */
  timeLimit: [number | null, number | null];
  /** Queue that gets the rpc:// result. */
  replyTo: string | null;
  /** The AMQP priority (0..255; Celery's `apply_async(priority=N)`): kept by retries. */
  priority: number;
  /** Node that sent the message, e.g. `gen1234@host`. */
  origin: string | null;
  ignoreResult: boolean;
  embed: { callbacks: unknown; errbacks: unknown; chain: unknown; chord: unknown };
  /** headers this module does not interpret, kept so a re-publish loses nothing */
  extraHeaders: Record<string, unknown>;
}

/** Options of `createTaskMessage`; every one has Celery's default. */
export interface CreateTaskMessageOptions {
  /** @default crypto.randomUUID() */
  id?: string;
  /** @default [] */
  args?: unknown[];
  /** @default {} */
  kwargs?: Record<string, unknown>;
  /** @default null */
  replyTo?: string | null;
  /** @default 0 */
  priority?: number;
  /** @default 0 */
  retries?: number;
  /** @default null */
  eta?: string | null;
  /** @default null */
  expires?: string | null;
  /** @default null */
  parentId?: string | null;
  /** @default the task id */
  rootId?: string;
  /** @default null */
  origin?: string | null;
  /** @default [null, null] */
  timeLimit?: [number | null, number | null];
  /** @default null */
  group?: string | null;
  /** @default false */
  ignoreResult?: boolean;
  /** Extra headers, written as they are. @default {} */
  headers?: Record<string, unknown>;
}

/** Celery's `lang` header names the sender; Celery itself never reads it. */
const LANG = "js";

/** Headers decoded into fields; every other header is kept in `extraHeaders`. */
const INTERPRETED_HEADERS = new Set([
  "task",
  "id",
  "eta",
  "expires",
  "group",
  "retries",
  "timelimit",
  "root_id",
  "parent_id",
  "origin",
  "ignore_result",
  // Regenerated from args/kwargs on every encode, so never stale.
  "argsrepr",
  "kwargsrepr",
]);

/** Build a new task message with Celery's defaults. */
export function createTaskMessage(
  task: string,
  options: CreateTaskMessageOptions = {},
): TaskMessage {
  const id = options.id ?? crypto.randomUUID();
  return {
    id,
    task,
    args: options.args ?? [],
    kwargs: options.kwargs ?? {},
    retries: options.retries ?? 0,
    eta: options.eta ?? null,
    expires: options.expires ?? null,
    rootId: options.rootId ?? id,
    parentId: options.parentId ?? null,
    group: options.group ?? null,
    timeLimit: options.timeLimit ?? [null, null],
    replyTo: options.replyTo ?? null,
    priority: priorityOf(options.priority),
    origin: options.origin ?? null,
    ignoreResult: options.ignoreResult ?? false,
    embed: { callbacks: null, errbacks: null, chain: null, chord: null },
    extraHeaders: options.headers ?? {},
  };
}

/**
 * The message Celery's `Task.retry` publishes: same id, `retries + 1`,
 * `parentId` = the task's own id, the new `eta` (and origin, when given).
 */
export function retryTaskMessage(
  message: TaskMessage,
  options: { eta: string | null; origin?: string | null },
): TaskMessage {
  return {
    ...message,
    retries: message.retries + 1,
    parentId: message.id,
    eta: options.eta,
    origin: options.origin === undefined ? message.origin : options.origin,
  };
}

/**
 * Headers a Celery worker reads with a default of None (`headers.get(...)`,
 * or `'shadow' in headers`): sent only when they hold a value. Every dts
 * message sent them all as null, as a Celery client does; leaving them out
 * is 8 of 17 header fields fewer to encode, route and decode per message.
 * A Celery 5.2 worker (tests/interop) reads such a message as it reads one
 * with the nulls. `timelimit` is left out when both of its limits are null.
 */
export const OMITTED_WHEN_NULL: ReadonlySet<string> = new Set([
  "shadow",
  "group_index",
  "eta",
  "expires",
  "group",
  "parent_id",
  "origin",
]);

/**
 * Encode a task message as Celery 5.2 does: persistent, priority 0,
 * `correlation_id` = id, JSON body `[args, kwargs, embed]`, minus the
 * null headers of OMITTED_WHEN_NULL.
 * Header numbers are plain JS numbers; the transport writes them as int32/double.
 */
export function encodeTaskMessage(message: TaskMessage): { body: Uint8Array; props: MessageProps } {
  const headers: Record<string, unknown> = { lang: LANG };
  for (const key in message.extraHeaders) {
    const value = message.extraHeaders[key];
    if (value !== null || !OMITTED_WHEN_NULL.has(key)) headers[key] = value;
  }
  headers.task = message.task;
  headers.id = message.id;
  if (message.eta !== null) headers.eta = message.eta;
  if (message.expires !== null) headers.expires = message.expires;
  if (message.group !== null) headers.group = message.group;
  headers.retries = message.retries;
  const [hard, soft] = message.timeLimit;
  if (hard !== null || soft !== null) headers.timelimit = [hard, soft];
  headers.root_id = message.rootId;
  if (message.parentId !== null) headers.parent_id = message.parentId;
  headers.argsrepr = pyRepr(message.args);
  headers.kwargsrepr = pyRepr(message.kwargs);
  if (message.origin !== null) headers.origin = message.origin;
  headers.ignore_result = message.ignoreResult;
  const props: MessageProps = {
    headers,
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: UTF8_ENCODING,
    correlationId: message.id,
    priority: message.priority,
    persistent: true,
  };
  if (message.replyTo !== null) props.replyTo = message.replyTo;
  const body = encodeJsonBody([message.args, message.kwargs, message.embed]);
  return { body, props };
}

/**
 * Decode a protocol v2 JSON task message.
 * @throws {ProtocolError} with the reason to dead-letter it under: body over `maxBytes`,
 * content type other than JSON (never unpickled), bad encoding or JSON, protocol v1 body,
 * body not `[args, kwargs, embed]`, missing or invalid headers
 */
export function decodeTaskMessage(
  body: Uint8Array,
  props: MessageProps,
  options: { maxBytes?: number } = {},
): TaskMessage {
  const undecodable = props.headers?.[UNDECODABLE_HEADER];
  if (typeof undecodable === "string") fail(undecodable);
  const payload = decodeJsonBody(body, props, options.maxBytes ?? DEFAULT_MAX_BODY_BYTES);
  if (!Array.isArray(payload) || payload.length !== 3) {
    if (isRecord(payload) && ("task" in payload || "args" in payload)) {
      fail(
        "body is a protocol v1 message (a dict with task, id, args); only protocol v2 is supported",
      );
    }
    fail(`body must be [args, kwargs, embed], got ${describe(payload)}`);
  }
  const [args, kwargs, embed] = payload;
  if (!Array.isArray(args)) fail(`args must be an array, got ${describe(args)}`);
  if (!isRecord(kwargs)) fail(`kwargs must be an object, got ${describe(kwargs)}`);
  if (embed !== null && !isRecord(embed)) fail(`embed must be an object, got ${describe(embed)}`);

  const headers = props.headers ?? {};
  const task = requiredString(headers, "task");
  const id = requiredString(headers, "id");
  const retries = headers.retries ?? 0;
  if (typeof retries !== "number" || !Number.isInteger(retries) || retries < 0) {
    fail(`header "retries" must be a non-negative integer, got ${describe(retries)}`);
  }
  const extraHeaders: Record<string, unknown> = {};
  for (const key in headers) {
    if (!INTERPRETED_HEADERS.has(key) && !isBrokerHeader(key)) extraHeaders[key] = headers[key];
  }
  return {
    id,
    task,
    args,
    kwargs,
    retries,
    eta: optionalDate(headers, "eta"),
    expires: optionalDate(headers, "expires"),
    rootId: optionalString(headers, "root_id") || id,
    parentId: optionalString(headers, "parent_id"),
    group: optionalString(headers, "group"),
    timeLimit: timeLimitOf(headers.timelimit),
    replyTo: props.replyTo || null,
    priority: priorityOf(props.priority),
    origin: optionalString(headers, "origin"),
    ignoreResult: headers.ignore_result === true,
    embed: {
      callbacks: embed?.callbacks ?? null,
      errbacks: embed?.errbacks ?? null,
      chain: embed?.chain ?? null,
      chord: embed?.chord ?? null,
    },
    extraHeaders,
  };
}

/**
 * An ISO-8601 date header, or null. One that is not a date would make the
 * task run at once (`eta`) or never expire (`expires`): malformed instead.
 */
function optionalDate(headers: Record<string, unknown>, name: string): string | null {
  const value = optionalString(headers, name);
  if (value !== null && Number.isNaN(Date.parse(value))) {
    fail(`header "${name}" must be an ISO-8601 date, got ${JSON.stringify(value.slice(0, 64))}`);
  }
  return value;
}

function fail(reason: string): never {
  throw new ProtocolError(`Cannot decode task message: ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function requiredString(headers: Record<string, unknown>, name: string): string {
  const value = headers[name];
  if (typeof value === "string" && value !== "") return value;
  if (value === undefined) fail(`header "${name}" is missing`);
  return fail(`header "${name}" must be a non-empty string, got ${describe(value)}`);
}

function optionalString(headers: Record<string, unknown>, name: string): string | null {
  const value = headers[name];
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  return fail(`header "${name}" must be a string or null, got ${describe(value)}`);
}

function timeLimitOf(value: unknown): [number | null, number | null] {
  if (value === undefined || value === null) return [null, null];
  if (Array.isArray(value) && value.length === 2 && value.every(isLimit)) {
    return [value[0] ?? null, value[1] ?? null];
  }
  return fail(`header "timelimit" must be [hard, soft] seconds or nulls, got ${describe(value)}`);
}

function isLimit(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && value >= 0);
}

/** An AMQP priority: an octet; anything else is 0 (what RabbitMQ assumes when there is none). */
function priorityOf(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255
    ? value
    : 0;
}
