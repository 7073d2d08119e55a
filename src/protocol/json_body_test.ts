import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import type { MessageProps } from "../transport/transport.ts";
import { decodeJsonBody, encodeJsonBody } from "./json_body.ts";

const json: MessageProps = {
  headers: {},
  contentType: "application/json",
  contentEncoding: "utf-8",
};

function rejects(
  body: Uint8Array,
  props: MessageProps,
  message: string | RegExp,
  maxBytes?: number,
) {
  assert.throws(() => decodeJsonBody(body, props, maxBytes), (error: unknown) => {
    assert.ok(error instanceof ProtocolError);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

Deno.test("decodeJsonBody() reads what encodeJsonBody() writes", () => {
  const value = [[1], { x: "é" }, null];
  assert.deepEqual(decodeJsonBody(encodeJsonBody(value), json), value);
});

Deno.test("decodeJsonBody() accepts utf8 spellings, no encoding and content type parameters", () => {
  const body = encodeJsonBody(1);
  assert.equal(decodeJsonBody(body, { headers: {}, contentType: "application/json" }), 1);
  assert.equal(decodeJsonBody(body, { ...json, contentEncoding: "UTF8" }), 1);
  assert.equal(
    decodeJsonBody(body, { ...json, contentType: "Application/JSON; charset=utf-8" }),
    1,
  );
});

Deno.test("decodeJsonBody() rejects a body over the limit, naming size and limit", () => {
  rejects(
    new Uint8Array(11),
    json,
    "Cannot decode message: body is 11 bytes, over the limit of 10 bytes",
    10,
  );
  rejects(
    new Uint8Array(1024 * 1024 + 1),
    json,
    "Cannot decode message: body is 1048577 bytes, over the limit of 1048576 bytes",
  );
});

Deno.test("decodeJsonBody() never unpickles: a pickle content type is rejected", () => {
  rejects(
    new Uint8Array([0x80, 0x04]),
    { ...json, contentType: "application/x-python-serialize", contentEncoding: "binary" },
    'Cannot decode message: content type "application/x-python-serialize" is not supported (only application/json)',
  );
});

Deno.test("decodeJsonBody() rejects a missing content type", () => {
  rejects(
    encodeJsonBody(1),
    { headers: {} },
    "Cannot decode message: content type is missing (only application/json)",
  );
});

Deno.test("decodeJsonBody() rejects a content encoding other than utf-8", () => {
  rejects(
    encodeJsonBody(1),
    { ...json, contentEncoding: "gzip" },
    'Cannot decode message: content encoding "gzip" is not supported (only utf-8)',
  );
});

Deno.test("decodeJsonBody() rejects bytes that are not UTF-8", () => {
  rejects(
    new Uint8Array([0x22, 0xff, 0x22]),
    json,
    "Cannot decode message: body is not valid UTF-8",
  );
});

Deno.test("decodeJsonBody() rejects text that is not JSON", () => {
  rejects(
    new TextEncoder().encode("[1, 2"),
    json,
    /^Cannot decode message: body is not valid JSON \(.+\)$/,
  );
});
