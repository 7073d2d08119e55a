/**
 * W3C Trace Context (`traceparent`, `tracestate`) in task message headers.
 *
 * A dts sender writes them as top-level message headers, as
 * opentelemetry-instrumentation-celery does (it injects into the headers of
 * Celery's `before_task_publish`, which become the AMQP headers). Celery
 * workers of some versions re-publish a retried task with its custom headers
 * nested under a `headers` header, so a reader looks there too.
 *
 * Written by hand rather than through the OTel propagation API: the format is
 * four dash-separated fields, and reading it here keeps dts's interop the same
 * whatever `OTEL_PROPAGATORS` says.
 * @module
 */

/** The header that carries the parent span (W3C `traceparent`). */
export const TRACEPARENT_HEADER = "traceparent";
/** Vendor trace state that travels with it (W3C `tracestate`). */
export const TRACESTATE_HEADER = "tracestate";

/** The span a `traceparent` names. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** The trace flags octet (bit 0: sampled). */
  traceFlags: number;
}

/** A message's trace context: its parent span, and the trace state, if any. */
export interface TraceHeaders {
  parent: TraceParent;
  traceState: string | null;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = "0".repeat(32);
const ZERO_SPAN_ID = "0".repeat(16);

/**
 * Read a `traceparent` value; null when it is not one (wrong shape, the
 * forbidden version `ff`, an all-zero id). A version above `00` is read for
 * its first four fields, as the W3C spec asks of a parser of version 00.
 */
export function parseTraceparent(value: unknown): TraceParent | null {
  if (typeof value !== "string") return null;
  const match = TRACEPARENT.exec(value.trim());
  if (match === null) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/** Write a version-00 `traceparent`. */
export function formatTraceparent(parent: TraceParent): string {
  const flags = (parent.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${parent.traceId}-${parent.spanId}-${flags}`;
}

/**
 * The trace context a task message carries: its top-level `traceparent`,
 * else one nested in a `headers` header (a Celery retry); null when neither
 * is a valid one.
 */
export function traceHeadersOf(headers: Readonly<Record<string, unknown>>): TraceHeaders | null {
  const top = fromCarrier(headers);
  if (top !== null) return top;
  const nested = headers.headers;
  if (typeof nested === "object" && nested !== null && !Array.isArray(nested)) {
    return fromCarrier(nested as Record<string, unknown>);
  }
  return null;
}

function fromCarrier(carrier: Readonly<Record<string, unknown>>): TraceHeaders | null {
  const parent = parseTraceparent(carrier[TRACEPARENT_HEADER]);
  if (parent === null) return null;
  const state = carrier[TRACESTATE_HEADER];
  return { parent, traceState: typeof state === "string" && state !== "" ? state : null };
}
