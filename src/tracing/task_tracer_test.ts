import assert from "node:assert/strict";
import {
  type Context,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import { PREVIOUS_ATTEMPT_HEADER } from "../protocol/dts_headers.ts";
import { NO_TRACING, otelTaskTracer, runtimeTaskTracer } from "./task_tracer.ts";

/** A span as the fake tracer saw it start and end. */
interface Started {
  name: string;
  options: SpanOptions;
  parent: SpanContext | undefined;
  context: SpanContext;
  attributes: Record<string, unknown>;
  status?: { code: number; message?: string };
  events: string[];
  ended: boolean;
}

/** Hands out spans with counted ids and keeps what it was asked. */
function recordingTracer(): { tracer: Tracer; started: Started[] } {
  const started: Started[] = [];
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
      const parent = context === undefined ? undefined : trace.getSpanContext(context);
      const spanId = (started.length + 1).toString(16).padStart(16, "0");
      const record: Started = {
        name,
        options,
        parent,
        context: { traceId: parent?.traceId ?? "a".repeat(32), spanId, traceFlags: 1 },
        attributes: { ...options.attributes },
        events: [],
        ended: false,
      };
      started.push(record);
      const span = {
        spanContext: () => record.context,
        setAttribute: (key: string, value: unknown) => ((record.attributes[key] = value), span),
        setStatus: (status: { code: number; message?: string }) => ((record.status = status), span),
        addEvent: (event: string) => (record.events.push(event), span),
        end: () => void (record.ended = true),
      };
      return span as unknown as Span;
    },
  } as unknown as Tracer;
  return { tracer, started };
}

const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("runtimeTaskTracer() is NO_TRACING when no tracer provider is registered", () => {
  // deno test runs without OTEL_DENO: the API's global is the unset proxy.
  assert.equal(runtimeTaskTracer(), NO_TRACING);
  const message = createTaskMessage("task_a");
  assert.equal(NO_TRACING.startSend(message, "queue_a"), null);
  assert.equal(NO_TRACING.startAttempt(message, "queue_a", "w@h"), null);
});

Deno.test("otelTaskTracer() sends the send span's context as traceparent", () => {
  const { tracer, started } = recordingTracer();
  const message = createTaskMessage("task_a", { id: "id-1" });
  const span = otelTaskTracer(tracer).startSend(message, "queue_a")!;
  assert.deepEqual(span.headers, {
    traceparent: `00-${"a".repeat(32)}-0000000000000001-01`,
  });
  span.end();
  assert.equal(started[0].name, "send queue_a");
  assert.equal(started[0].options.kind, SpanKind.PRODUCER);
  assert.equal(started[0].attributes["messaging.message.id"], "id-1");
  assert.equal(started[0].attributes["celery.task_name"], "task_a");
  assert.equal(started[0].ended, true);
});

Deno.test("otelTaskTracer() makes an attempt the child of its message's traceparent and links a retry to the attempt before", () => {
  const { tracer, started } = recordingTracer();
  const tasks = otelTaskTracer(tracer);
  const first = createTaskMessage("task_a", { id: "id-1", headers: { traceparent: PARENT } });
  const attempt = tasks.startAttempt(first, "queue_a", "w@h")!;
  attempt.end("RETRY", { type: "Error", message: "boom" });
  assert.equal(started[0].parent?.spanId, "00f067aa0ba902b7");
  assert.equal(started[0].parent?.isRemote, true);
  assert.deepEqual(started[0].options.links, []);
  assert.equal(started[0].attributes["dts.outcome"], "RETRY");
  assert.equal(started[0].status?.code, SpanStatusCode.ERROR);
  assert.deepEqual(started[0].events, ["exception"]);

  const retry = {
    ...first,
    retries: 1,
    extraHeaders: { ...first.extraHeaders, ...attempt.retryHeaders },
  };
  assert.equal(
    retry.extraHeaders[PREVIOUS_ATTEMPT_HEADER],
    `00-${"4bf92f3577b34da6a3ce929d0e0e4736"}-0000000000000001-01`,
  );
  tasks.startAttempt(retry, "queue_a", "w@h")!.end("SUCCESS");
  assert.equal(started[1].parent?.spanId, "00f067aa0ba902b7", "a sibling, not a child");
  assert.equal(started[1].options.links?.[0].context.spanId, "0000000000000001");
  assert.equal(started[1].attributes["dts.retries"], 1);
  assert.equal(started[1].status, undefined);
});

Deno.test("otelTaskTracer() starts a new trace for an attempt whose message carries none", () => {
  const { tracer, started } = recordingTracer();
  otelTaskTracer(tracer).startAttempt(createTaskMessage("task_a"), "queue_a", "w@h")!.end(
    "SUCCESS",
  );
  assert.equal(started[0].parent, undefined);
});
