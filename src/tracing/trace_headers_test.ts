import assert from "node:assert/strict";
import { formatTraceparent, parseTraceparent, traceHeadersOf } from "./trace_headers.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("parseTraceparent() reads a version-00 traceparent and formatTraceparent() writes it back", () => {
  const value = `00-${TRACE}-${SPAN}-01`;
  const parsed = parseTraceparent(value);
  assert.deepEqual(parsed, { traceId: TRACE, spanId: SPAN, traceFlags: 1 });
  assert.equal(formatTraceparent(parsed!), value);
});

Deno.test("parseTraceparent() refuses what the W3C spec says is no traceparent", () => {
  for (
    const value of [
      undefined,
      42,
      "",
      `00-${TRACE}-${SPAN}`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${"0".repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
    ]
  ) {
    assert.equal(parseTraceparent(value), null, String(value));
  }
});

Deno.test("parseTraceparent() reads the known fields of a later version", () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-00-more`), {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 0,
  });
});

Deno.test("traceHeadersOf() takes the top-level traceparent first, else one nested in a Celery headers header", () => {
  const top = `00-${TRACE}-${SPAN}-01`;
  const other = `00-${TRACE}-${"1".repeat(16)}-01`;
  assert.deepEqual(
    traceHeadersOf({ traceparent: top, tracestate: "a=1", headers: { traceparent: other } }),
    {
      parent: { traceId: TRACE, spanId: SPAN, traceFlags: 1 },
      traceState: "a=1",
    },
  );
  assert.equal(traceHeadersOf({ headers: { traceparent: other } })?.parent.spanId, "1".repeat(16));
  assert.equal(traceHeadersOf({ traceparent: "junk", headers: "junk" }), null);
  assert.equal(traceHeadersOf({}), null);
});
