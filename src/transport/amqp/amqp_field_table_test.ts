import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { UNDECODABLE_HEADER } from "../transport.ts";
import {
  FieldBytes,
  fieldTable,
  nestedArrayValue,
} from "../../../tests/helpers/raw_amqp_publisher.ts";
import { decodeBasicProperties, decodeHeaders, MAX_HEADER_DEPTH } from "./amqp_field_table.ts";

function headers(entries: Record<string, Uint8Array>): Record<string, unknown> {
  const table = Buffer.from(fieldTable(entries));
  return decodeHeaders(table, 4, table.length);
}

function value(type: string, ...bytes: number[]): Uint8Array {
  return Uint8Array.of(type.charCodeAt(0), ...bytes);
}

Deno.test("decodeHeaders() reads every AMQP field type as amqplib does", () => {
  const decoded = headers({
    s: new FieldBytes().longStringValue("héllo").bytes(),
    I: value("I", 0xff, 0xff, 0xff, 0xfe),
    i: value("i", 0xff, 0xff, 0xff, 0xfe),
    l: value("l", 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe),
    L: value("L", 0, 0, 0, 0, 0, 0, 1, 0),
    d: value("d", 0x3f, 0xf8, 0, 0, 0, 0, 0, 0),
    f: value("f", 0x3f, 0xc0, 0, 0),
    b: value("b", 0xff),
    B: value("B", 0xff),
    short: value("s", 0xff, 0xfe),
    u: value("u", 0xff, 0xfe),
    t: value("t", 1),
    V: value("V"),
    T: value("T", 0, 0, 0, 0, 0x69, 0x2d, 0x4e, 0x80),
    D: value("D", 2, 0, 0, 0x30, 0x39),
    x: value("x", 0, 0, 0, 2, 7, 8),
    A: value("A", 0, 0, 0, 6, 0x49, 0, 0, 0, 5, 0x56),
    F: value("F", 0, 0, 0, 4, 1, 0x6b, 0x74, 0),
  });
  assert.deepEqual({ ...decoded, x: [...(decoded.x as Uint8Array)] }, {
    s: "héllo",
    I: -2,
    i: 4294967294,
    l: -2,
    L: 256,
    d: 1.5,
    f: 1.5,
    b: -1,
    B: 255,
    short: -2,
    u: 65534,
    t: true,
    V: null,
    T: { "!": "timestamp", value: 1764576896 },
    D: { "!": "decimal", value: { places: 2, digits: 12345 } },
    x: [7, 8],
    A: [5, null],
    F: { k: false },
  });
});

Deno.test("decodeHeaders() replaces a value nested too deep by null, names it, and reads the rest", () => {
  const decoded = headers({
    before: new FieldBytes().longStringValue("a").bytes(),
    deep: nestedArrayValue(20_000),
    after: new FieldBytes().longStringValue("b").bytes(),
  });
  assert.deepEqual(decoded, {
    before: "a",
    deep: null,
    after: "b",
    [UNDECODABLE_HEADER]: `header "deep" nests deeper than ${MAX_HEADER_DEPTH} levels`,
  });
});

Deno.test("decodeHeaders() reads nesting up to MAX_HEADER_DEPTH", () => {
  const decoded = headers({ ok: nestedArrayValue(MAX_HEADER_DEPTH) });
  assert.equal(decoded[UNDECODABLE_HEADER], undefined);
  let level = decoded.ok;
  for (let i = 1; i < MAX_HEADER_DEPTH; i++) level = (level as unknown[])[0];
  assert.deepEqual(level, []);
  assert.match(
    String(headers({ no: nestedArrayValue(MAX_HEADER_DEPTH + 1) })[UNDECODABLE_HEADER]),
    /nests deeper/,
  );
});

Deno.test("decodeHeaders() stops at an unknown type, whose length cannot be known", () => {
  const decoded = headers({
    before: value("t", 0),
    odd: value("Z", 1, 2, 3),
    after: value("t", 1),
  });
  assert.deepEqual(decoded, {
    before: false,
    odd: null,
    [UNDECODABLE_HEADER]:
      'header "odd" has an unknown field type "Z"; the headers after it cannot be read',
  });
});

Deno.test("decodeHeaders() skips an unknown type inside an array by the array's length", () => {
  const decoded = headers({
    list: value("A", 0, 0, 0, 2, 0x5a, 9),
    after: value("t", 1),
  });
  assert.deepEqual(decoded, {
    list: null,
    after: true,
    [UNDECODABLE_HEADER]: 'header "list" has an unknown field type "Z"',
  });
});

Deno.test("decodeHeaders() reports a truncated table instead of throwing", () => {
  const table = Buffer.from(fieldTable({ s: new FieldBytes().longStringValue("abcdef").bytes() }));
  const decoded = decodeHeaders(table, 4, table.length - 3);
  assert.deepEqual(decoded, {
    s: null,
    [UNDECODABLE_HEADER]: 'header "s" is truncated; the headers after it cannot be read',
  });
});

Deno.test("decodeBasicProperties() reads the flagged properties in order", () => {
  const table = fieldTable({ task: new FieldBytes().longStringValue("t").bytes() });
  // 0xff5c: content type and encoding, headers, delivery mode, priority,
  // correlation id, reply-to, expiration; timestamp, user id, app id, cluster id.
  const payload = new FieldBytes()
    .raw(Uint8Array.of(0xff, 0x5c))
    .shortString("application/json")
    .shortString("utf-8")
    .raw(table)
    .octet(2)
    .octet(5)
    .shortString("corr")
    .shortString("reply")
    .shortString("60000")
    .raw(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 9))
    .shortString("user")
    .shortString("app")
    .shortString("cluster")
    .bytes();
  assert.deepEqual(decodeBasicProperties(Buffer.from(payload)), {
    contentType: "application/json",
    contentEncoding: "utf-8",
    headers: { task: "t" },
    deliveryMode: 2,
    priority: 5,
    correlationId: "corr",
    replyTo: "reply",
    expiration: "60000",
    messageId: undefined,
    timestamp: 9,
    type: undefined,
    userId: "user",
    appId: "app",
    clusterId: "cluster",
  });
  assert.deepEqual(decodeBasicProperties(Buffer.from([0, 0])), {});
});
