/**
 * Reading event messages from `celeryev` into `FleetEvent`s, from any sender
 * (dts, Celery, a stranger on the broker): whatever a message holds, the
 * reader gets events or a reason it was skipped, never a throw.
 * @module
 */

import { decodeJsonBody } from "../protocol/json_body.ts";
import type { MessageProps } from "../transport/transport.ts";

/**
 * One Celery event, as sent. The fields every event has are typed; the rest
 * of the body (`pid`, `utcoffset`, `freq`, `active`, `processed`,
 * `loadavg`, `sw_ident`, `name`, `args`, `result`, `runtime`, `exception`,
 * …) is in `fields`, untouched and unchecked: read it with care.
 */
export interface FleetEvent {
  /** `task-sent` … `task-revoked`, `worker-online|heartbeat|offline`, or any other (custom) type. */
  type: string;
  /** The sender's node name: a worker's name, or the dispatcher's `gen<pid>@host`. */
  hostname: string;
  /** When the sender sent it, in milliseconds since the epoch (Celery's `timestamp` is seconds). */
  timestampMs: number;
  /** The task id of a `task-*` event; null for the others. */
  uuid: string | null;
  /** The sender's Lamport clock, or null when it sent none. */
  clock: number | null;
  /** Everything else the body holds, by Celery's field names. */
  fields: Readonly<Record<string, unknown>>;
}

/** Why a message (or one event of a batch) was skipped. */
export type SkipReason = "too_large" | "not_json" | "too_deep" | "bad_shape";

/** What one message held. */
export interface DecodedEvents {
  events: FleetEvent[];
  /** Events (or whole messages) skipped, each with its reason. */
  skipped: SkipReason[];
}

/** How much a reader takes from one message. */
export interface EventLimits {
  /** Larger bodies are skipped unread. @default 1 MiB */
  maxBytes?: number;
  /** Deeper nesting is skipped (a body built to exhaust a recursive reader). @default 32 */
  maxDepth?: number;
  /** A batch (`task.multi`) longer than this keeps only its first ones. @default 1000 */
  maxBatch?: number;
}

const DEFAULTS = { maxBytes: 1024 * 1024, maxDepth: 32, maxBatch: 1000 };
const MAX_TEXT = 256;
const TYPED_KEYS = new Set(["type", "hostname", "timestamp", "uuid", "clock"]);

/** Decode one message from `celeryev`; never throws. */
export function decodeEvents(
  body: Uint8Array,
  props: MessageProps,
  limits: EventLimits = {},
): DecodedEvents {
  const { maxBytes, maxDepth, maxBatch } = { ...DEFAULTS, ...limits };
  if (body.byteLength > maxBytes) return { events: [], skipped: ["too_large"] };
  let value: unknown;
  try {
    value = decodeJsonBody(body, props, maxBytes);
  } catch {
    // A ProtocolError (not JSON, not UTF-8, another content type) or anything the parser threw.
    return { events: [], skipped: ["not_json"] };
  }
  if (deeperThan(value, maxDepth)) return { events: [], skipped: ["too_deep"] };
  const items = Array.isArray(value) ? value : [value];
  const decoded: DecodedEvents = { events: [], skipped: [] };
  items.forEach((item, index) => {
    const event = index < maxBatch ? toFleetEvent(item) : null;
    if (event === null) decoded.skipped.push("bad_shape");
    else decoded.events.push(event);
  });
  return decoded;
}

/** The event a parsed body describes, or null when it lacks what every event has. */
export function toFleetEvent(value: unknown): FleetEvent | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const body = value as Record<string, unknown>;
  const { type, hostname, timestamp, uuid, clock } = body;
  if (!isText(type) || !isText(hostname)) return null;
  if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) return null;
  const isTask = type.startsWith("task-");
  if (isTask && !isText(uuid)) return null;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    if (!TYPED_KEYS.has(key)) fields[key] = body[key];
  }
  if (!isTask && uuid !== undefined) fields.uuid = uuid;
  return {
    type,
    hostname,
    timestampMs: timestamp * 1000,
    uuid: isTask ? uuid as string : null,
    clock: typeof clock === "number" && Number.isFinite(clock) ? clock : null,
    fields,
  };
}

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_TEXT;
}

/** Whether `value` nests deeper than `max` arrays/objects; iterative, so depth cannot hurt it. */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    const children = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return false;
}
