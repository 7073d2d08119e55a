import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import {
  type ControlRequest,
  decodeControlReply,
  decodeControlRequest,
  encodeControlReply,
  encodeControlRequest,
  PIDBOX_EXCHANGE,
  PIDBOX_REPLY_EXCHANGE,
} from "./celery_control_message.ts";
import {
  captureContext,
  fixtureBody,
  fixtureProps,
  loadFixture,
  parseBody,
} from "../../tests/helpers/celery_fixtures.ts";

const CAPTURE = captureContext();
const PING: ControlRequest = {
  method: "ping",
  arguments: {},
  destination: null,
  pattern: null,
  matcher: null,
  ticket: CAPTURE.ping_ticket,
  replyTo: { exchange: "reply.celery.pidbox", routingKey: CAPTURE.ping_reply_routing_key },
};

Deno.test("PIDBOX_EXCHANGE and PIDBOX_REPLY_EXCHANGE are the exchanges of the captured ping", () => {
  assert.equal(PIDBOX_EXCHANGE, loadFixture("control.ping.request").exchange);
  assert.equal(PIDBOX_REPLY_EXCHANGE, loadFixture("control.ping.reply").exchange);
});

Deno.test("decodeControlRequest() reads the ping of `celery inspect ping`", () => {
  const fixture = loadFixture("control.ping.request");
  assert.deepEqual(decodeControlRequest(fixtureBody(fixture), fixtureProps(fixture)), PING);
});

Deno.test("decodeControlRequest() reads the mingle hello a worker broadcasts at start", () => {
  const fixture = loadFixture("control.mingle_hello.request");
  const request = decodeControlRequest(fixtureBody(fixture), fixtureProps(fixture));
  assert.equal(request.method, "hello");
  assert.deepEqual(request.arguments, { from_node: CAPTURE.worker_name, revoked: {} });
  assert.equal(request.replyTo?.routingKey, CAPTURE.hello_reply_routing_key);
});

Deno.test("encodeControlRequest() writes the ping as Celery does, expires as a double", () => {
  const fixture = loadFixture("control.ping.request");
  const { body, props } = encodeControlRequest(PING, {
    expiresAt: CAPTURE.ping_expires,
    clock: fixture.properties.headers.clock as number,
  });
  assert.deepEqual(parseBody(body), fixture.body);
  assert.deepEqual(props, fixtureProps(fixture));
  assert.equal(fixture.header_types.expires, "d");
  assert.ok(
    !Number.isInteger(props.headers.expires),
    "a non-integer number is written as a double",
  );
  assert.ok(Number.isInteger(props.headers.clock));
});

Deno.test("encodeControlRequest() keeps an integral expiry a non-integer number", () => {
  const { props } = encodeControlRequest(PING, { expiresAt: 1795863260 });
  const expires = props.headers.expires as number;
  assert.ok(!Number.isInteger(expires));
  assert.ok(expires > 1795863260 && expires < 1795863260.01);
  assert.equal(encodeControlRequest(PING).props.headers.expires, 0, "0 = never, as kombu writes");
});

Deno.test("encodeControlRequest() leaves out ticket and reply_to when no reply is wanted", () => {
  const cast = { ...PING, method: "shutdown", ticket: "", replyTo: null, destination: ["w1@h"] };
  const { body, props } = encodeControlRequest(cast);
  assert.deepEqual(parseBody(body), {
    method: "shutdown",
    arguments: {},
    destination: ["w1@h"],
    pattern: null,
    matcher: null,
  });
  assert.deepEqual(decodeControlRequest(body, props), cast);
});

Deno.test("encodeControlReply() writes the worker's pong as Celery does", () => {
  const fixture = loadFixture("control.ping.reply");
  const { body, props } = encodeControlReply(CAPTURE.worker_name, { ok: "pong" }, PING.ticket, {
    clock: fixture.properties.headers.clock as number,
  });
  assert.deepEqual(parseBody(body), fixture.body);
  assert.deepEqual(props, fixtureProps(fixture));
});

Deno.test("decodeControlReply() reads the worker's pong with its ticket", () => {
  const fixture = loadFixture("control.ping.reply");
  assert.deepEqual(decodeControlReply(fixtureBody(fixture), fixtureProps(fixture)), {
    ticket: PING.ticket,
    replies: { [CAPTURE.worker_name]: { ok: "pong" } },
  });
  const { body } = encodeControlReply("w", 1, "t");
  assert.equal(
    decodeControlReply(body, { headers: {}, contentType: "application/json" }).ticket,
    null,
  );
});

Deno.test("decodeControlRequest() and decodeControlReply() throw ProtocolError for bad bodies", () => {
  const props = { headers: {}, contentType: "application/json" };
  const bad = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const cases: [() => unknown, RegExp][] = [
    [
      () => decodeControlRequest(bad([1]), props),
      /^Cannot decode control request: body must be a JSON object$/,
    ],
    [
      () => decodeControlRequest(bad({ arguments: {} }), props),
      /"method" must be a non-empty string/,
    ],
    [
      () => decodeControlRequest(bad({ method: "ping", arguments: [] }), props),
      /"arguments" must be an object/,
    ],
    [
      () => decodeControlRequest(bad({ method: "ping", destination: "w1" }), props),
      /"destination" must be a list/,
    ],
    [
      () => decodeControlRequest(bad({ method: "ping", reply_to: { exchange: "x" } }), props),
      /"reply_to" must hold/,
    ],
    [
      () => decodeControlReply(bad("pong"), props),
      /^Cannot decode control reply: body must be a JSON object$/,
    ],
    [
      () => decodeControlReply(bad({}), { headers: {}, contentType: "application/x-yaml" }),
      /content type/,
    ],
  ];
  for (const [run, message] of cases) {
    assert.throws(
      run,
      (error: unknown) => error instanceof ProtocolError && message.test(error.message),
    );
  }
});
