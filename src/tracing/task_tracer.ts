/**
 * Spans of tasks: one per send (PRODUCER) and one per attempt (CONSUMER).
 *
 * An attempt's parent is the span that sent the task, named by the
 * message's `traceparent`; a retry is sent with the same `traceparent`, so
 * every attempt of a task is a child of its send, and each retry's span
 * links to the attempt before it (the `dts_previous_attempt` header) instead
 * of nesting under it: a task retried ten times is eleven siblings in a
 * chain of links, not eleven levels deep.
 *
 * When tracing is off, `NO_TRACING` answers every call with null: no span,
 * no header, no allocation per message.
 * @module
 */
import {
  type Attributes,
  type Context,
  context as contextApi,
  createTraceState,
  type Link,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { ErrorInfo } from "../errors.ts";
import { PREVIOUS_ATTEMPT_HEADER } from "../protocol/dts_headers.ts";
import type { TaskMessage } from "../protocol/celery_task_message.ts";
import {
  formatTraceparent,
  parseTraceparent,
  traceHeadersOf,
  type TraceParent,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from "./trace_headers.ts";
import { attemptAttributes, ATTR, sendAttributes } from "./task_span_attributes.ts";

/** How an attempt ended, as its span records it (`dts.outcome`). */
export type AttemptOutcomeName =
  | "SUCCESS"
  | "RETRY"
  | "FAILURE"
  | "REVOKED"
  /** Put back unrun (the worker stopped). */
  | "REQUEUED"
  /** The outcome could not be recorded on the broker: the message runs again. */
  | "UNRECORDED";

/** The span of one publish of a task message. */
export interface SendSpan {
  /** The headers that carry this span to the worker: `traceparent`, maybe `tracestate`. */
  readonly headers: Readonly<Record<string, string>>;
  /** End it: published, or `error` when the publish failed. */
  end(error?: unknown): void;
}

/** The span of one attempt of a task on a worker. */
export interface AttemptSpan {
  /** Headers for the retry message, so the next attempt links back to this one. */
  readonly retryHeaders: Readonly<Record<string, string>>;
  /**
   * Headers for the tasks this attempt sends on (its canvas: links, the
   * chain's next step), so their attempts are its children in one trace.
   */
  readonly childHeaders: Readonly<Record<string, string>>;
  /** End it with the recorded outcome and, for a failed attempt, its error. */
  end(outcome: AttemptOutcomeName, error?: ErrorInfo | null): void;
}

/** Starts task spans; null from every method when tracing is off. */
export interface TaskTracer {
  startSend(message: TaskMessage, queue: string): SendSpan | null;
  startAttempt(message: TaskMessage, queue: string, worker: string): AttemptSpan | null;
}

/** Tracing off: nothing is started, nothing is added to a message. */
export const NO_TRACING: TaskTracer = {
  startSend: () => null,
  startAttempt: () => null,
};

/** The instrumentation scope name the spans are exported under. */
export const TRACER_NAME = "dts";

/**
 * The tracer of the OpenTelemetry API's global provider: the one Deno
 * registers under `OTEL_DENO=true`, or one an embedding program set. With
 * none registered, `NO_TRACING` (the API's no-op tracer would still build a
 * span object per call).
 */
export function runtimeTaskTracer(version?: string): TaskTracer {
  const provider = trace.getTracerProvider();
  // An unset global answers with the API's proxy, delegating to its no-op provider.
  const noop = new ProxyTracerProvider().getDelegate();
  if (provider instanceof ProxyTracerProvider && provider.getDelegate() === noop) {
    return NO_TRACING;
  }
  return otelTaskTracer(provider.getTracer(TRACER_NAME, version));
}

/** Task spans made with `tracer`. */
export function otelTaskTracer(tracer: Tracer): TaskTracer {
  return {
    startSend(message, queue) {
      // A message that already carries a trace (a re-sent one) continues it; else the caller's.
      const carried = traceHeadersOf(message.extraHeaders);
      const parent = carried === null
        ? contextApi.active()
        : remoteContext(carried.parent, carried.traceState);
      const span = tracer.startSpan(`send ${queue}`, {
        kind: SpanKind.PRODUCER,
        attributes: sendAttributes(message, queue),
      }, parent);
      return {
        headers: headersOf(span.spanContext()),
        end(error?: unknown) {
          if (error !== undefined) fail(span, errorInfoOf(error));
          span.end();
        },
      };
    },
    startAttempt(message, queue, worker) {
      const carried = traceHeadersOf(message.extraHeaders);
      const parent = carried === null
        ? ROOT_CONTEXT
        : remoteContext(carried.parent, carried.traceState);
      const previous = parseTraceparent(message.extraHeaders[PREVIOUS_ATTEMPT_HEADER]);
      const links: Link[] = previous === null ? [] : [{
        context: remoteSpanContext(previous, null),
        attributes: { [ATTR.retries]: message.retries - 1 },
      }];
      const span = tracer.startSpan(`process ${queue}`, {
        kind: SpanKind.CONSUMER,
        attributes: attemptAttributes(message, queue, worker),
        links,
      }, parent);
      return {
        retryHeaders: { [PREVIOUS_ATTEMPT_HEADER]: formatTraceparent(span.spanContext()) },
        childHeaders: headersOf(span.spanContext()),
        end(outcome, error) {
          span.setAttribute(ATTR.outcome, outcome);
          if (error && outcome !== "REQUEUED" && outcome !== "REVOKED") fail(span, error);
          span.end();
        },
      };
    },
  };
}

function remoteSpanContext(parent: TraceParent, traceState: string | null): SpanContext {
  const remote: SpanContext = { ...parent, isRemote: true };
  if (traceState !== null) remote.traceState = createTraceState(traceState);
  return remote;
}

function remoteContext(parent: TraceParent, traceState: string | null): Context {
  return trace.setSpanContext(ROOT_CONTEXT, remoteSpanContext(parent, traceState));
}

function headersOf(span: SpanContext): Record<string, string> {
  const headers: Record<string, string> = { [TRACEPARENT_HEADER]: formatTraceparent(span) };
  const state = span.traceState?.serialize();
  if (state) headers[TRACESTATE_HEADER] = state;
  return headers;
}

/** Mark the span failed, with the error as an `exception` event (semantic conventions). */
function fail(span: Span, error: ErrorInfo): void {
  const attributes: Attributes = {
    "exception.type": error.type,
    "exception.message": error.message,
  };
  if (error.stack) attributes["exception.stacktrace"] = error.stack;
  span.addEvent("exception", attributes);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.type}: ${error.message}` });
}

function errorInfoOf(error: unknown): ErrorInfo {
  if (error instanceof Error) return { type: error.name, message: error.message };
  return { type: "Error", message: String(error) };
}
