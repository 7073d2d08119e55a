import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { toAmqpHeaders } from "./amqp_headers.ts";

Deno.test("toAmqpHeaders() types int32 integers as int, wider ones as long, others as double", () => {
  assert.deepEqual(
    toAmqpHeaders({ zero: 0, neg: -1, small: 128, max: 2 ** 31 - 1, min: -(2 ** 31) }),
    {
      zero: { "!": "int", value: 0 },
      neg: { "!": "int", value: -1 },
      small: { "!": "int", value: 128 },
      max: { "!": "int", value: 2147483647 },
      min: { "!": "int", value: -2147483648 },
    },
  );
  assert.deepEqual(toAmqpHeaders({ big: 2 ** 31, low: -(2 ** 31) - 1 }), {
    big: { "!": "long", value: 2147483648 },
    low: { "!": "long", value: -2147483649 },
  });
  assert.deepEqual(toAmqpHeaders({ f: 1.5, expires: 1795863214.43, huge: 1e300, nan: NaN }), {
    f: { "!": "double", value: 1.5 },
    expires: { "!": "double", value: 1795863214.43 },
    huge: { "!": "double", value: 1e300 },
    nan: { "!": "double", value: NaN },
  });
});

Deno.test("toAmqpHeaders() types numbers inside arrays and nested tables", () => {
  assert.deepEqual(
    toAmqpHeaders({ timelimit: [300, 600], nested: { a: [1.25, { b: 7 }] } }),
    {
      timelimit: [{ "!": "int", value: 300 }, { "!": "int", value: 600 }],
      nested: { a: [{ "!": "double", value: 1.25 }, { b: { "!": "int", value: 7 } }] },
    },
  );
});

Deno.test("toAmqpHeaders() keeps strings, booleans, null and already typed values", () => {
  const timestamp = { "!": "timestamp", value: 1700000000 };
  assert.deepEqual(
    toAmqpHeaders({ s: "x", t: true, f: false, n: null, ts: timestamp, arr: [null, undefined] }),
    { s: "x", t: true, f: false, n: null, ts: timestamp, arr: [null, null] },
  );
});

Deno.test("toAmqpHeaders() drops undefined values and turns byte arrays into Buffers", () => {
  const result = toAmqpHeaders({ gone: undefined, raw: new Uint8Array([1, 2]) });
  assert.deepEqual(Object.keys(result), ["raw"]);
  assert.ok(Buffer.isBuffer(result.raw));
  assert.deepEqual([...(result.raw as Buffer)], [1, 2]);
});
