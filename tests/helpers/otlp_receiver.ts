/**
 * An OTLP/HTTP receiver for tests: takes the JSON trace exports that Deno's
 * built-in OpenTelemetry sends (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and
 * keeps their spans, flattened, to assert on. A protobuf export is refused
 * with 415 and remembered, so a test that forgot the protocol fails saying so.
 * @module
 */

/** One exported span, its attribute values unwrapped. */
export interface ReceivedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  /** OTLP's enum: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  events: { name: string; attributes: Record<string, unknown> }[];
}

/** OTLP span kinds by name. */
export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** A running receiver; its `endpoint` goes in `OTEL_EXPORTER_OTLP_ENDPOINT`. */
export interface OtlpReceiver extends AsyncDisposable {
  endpoint: string;
  /** Every span received so far. */
  readonly spans: readonly ReceivedSpan[];
  /** Exports refused for not being JSON (content types). */
  readonly refused: readonly string[];
  /** The environment a dts process needs to export here, under `serviceName`. */
  env(serviceName: string): Record<string, string>;
}

/** Start a receiver on a free port of 127.0.0.1. */
export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const refused: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const type = req.headers.get("content-type") ?? "";
    const body = await req.text();
    if (!type.includes("json")) {
      refused.push(type);
      return new Response("JSON only", { status: 415 });
    }
    if (new URL(req.url).pathname === "/v1/traces") spans.push(...flatten(JSON.parse(body)));
    return Response.json({});
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  return {
    endpoint,
    spans,
    refused,
    env: (serviceName) => ({
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: serviceName,
      // Export within a tenth of a second, not Deno's default seconds.
      OTEL_BSP_SCHEDULE_DELAY: "100",
      // Logs stay on stderr for the test to read, and are not exported.
      OTEL_DENO_CONSOLE: "ignore",
    }),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

// deno-lint-ignore no-explicit-any
type Json = any;

function flatten(exported: Json): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of exported.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "");
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        out.push({
          service,
          scope: scopeSpans.scope?.name ?? "",
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? "",
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
          links: (span.links ?? []).map((link: Json) => ({
            traceId: link.traceId,
            spanId: link.spanId,
            attributes: attributesOf(link.attributes),
          })),
          statusCode: span.status?.code ?? 0,
          events: (span.events ?? []).map((event: Json) => ({
            name: event.name,
            attributes: attributesOf(event.attributes),
          })),
        });
      }
    }
  }
  return out;
}

function attributesOf(list: Json): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = valueOf(value);
  return out;
}

/** An OTLP AnyValue: int64 comes as a string in JSON. */
function valueOf(value: Json): unknown {
  if (value === undefined || value === null) return null;
  if ("stringValue" in value) return value.stringValue;
  if ("boolValue" in value) return value.boolValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return value.doubleValue;
  if ("arrayValue" in value) return (value.arrayValue.values ?? []).map(valueOf);
  return value;
}
