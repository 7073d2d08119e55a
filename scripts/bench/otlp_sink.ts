/**
 * Where traced bench runs export to: an OTLP/HTTP endpoint that answers at
 * once and keeps only counts, so the bench measures what tracing costs dts
 * (spans, headers, the export itself), not what a collector costs.
 * @module
 */

/** A running sink; `env()` points a dts process's tracing at it. */
export interface OtlpSink extends AsyncDisposable {
  /** Export requests and bytes received so far. */
  readonly received: { requests: number; bytes: number };
  /** `OTEL_DENO=true` and the endpoint; Deno's default protocol (http/protobuf) and batching. */
  env(): Record<string, string>;
}

/** Start a sink on a free port of 127.0.0.1. */
export function startOtlpSink(): OtlpSink {
  const received = { requests: 0, bytes: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received.requests++;
    received.bytes += (await req.arrayBuffer()).byteLength;
    return new Response(null, { status: 200 });
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  return {
    received,
    env: () => ({
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_DENO_CONSOLE: "ignore",
    }),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
