import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import type { MessageProps } from "../transport/transport.ts";
import {
  createTaskMessage,
  decodeTaskMessage,
  encodeTaskMessage,
  OMITTED_WHEN_NULL,
  retryTaskMessage,
  type TaskMessage,
} from "./celery_task_message.ts";
import {
  captureContext,
  type CeleryFixture,
  fixtureBody,
  fixtureProps,
  loadFixture,
  parseBody,
} from "../../tests/helpers/celery_fixtures.ts";

const SEND_FIXTURES = ["task_a.send_task", "task_fail.send_task", "task_retry.send_task"];
const CAPTURE = captureContext();
const REPLY_QUEUE = CAPTURE.rpc_reply_queue;

function decodeFixture(fixture: CeleryFixture): TaskMessage {
  return decodeTaskMessage(fixtureBody(fixture), fixtureProps(fixture));
}

/** Celery's message as dts sends it: the null headers Celery reads as absent left out. */
function lessCeleryNulls(props: MessageProps): MessageProps {
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props.headers ?? {})) {
    if (value === null && OMITTED_WHEN_NULL.has(key)) continue;
    if (key === "timelimit" && Array.isArray(value) && value.every((v) => v === null)) continue;
    headers[key] = value;
  }
  return { ...props, headers };
}

/** The JS value of each header has the type Celery put on the wire (I int, d float, S, V, t). */
function assertHeaderTypes(headers: Record<string, unknown>, types: Record<string, unknown>): void {
  const sent = (key: string) => Object.hasOwn(headers, key);
  // Only the headers Celery reads as absent when null may be missing.
  for (const key of Object.keys(types)) {
    if (!sent(key)) {
      assert.ok(
        OMITTED_WHEN_NULL.has(key) || key === "timelimit",
        `header "${key}" is missing and Celery needs it`,
      );
    }
  }
  assert.deepEqual(Object.keys(headers).sort(), Object.keys(types).filter(sent).sort());
  const check = (value: unknown, type: unknown, name: string): void => {
    if (Array.isArray(type)) {
      assert.ok(Array.isArray(value) && value.length === type.length, name);
      type.forEach((t, i) => check(value[i], t, `${name}[${i}]`));
    } else if (type === "S") assert.equal(typeof value, "string", name);
    else if (type === "V") assert.equal(value, null, name);
    else if (type === "t") assert.equal(typeof value, "boolean", name);
    else if (type === "I") assert.ok(Number.isInteger(value), name);
    else if (type === "d") assert.ok(typeof value === "number" && !Number.isInteger(value), name);
    else assert.fail(`unknown header type ${String(type)} for ${name}`);
  };
  for (const name in types) if (sent(name)) check(headers[name], types[name], name);
}

for (const name of SEND_FIXTURES) {
  Deno.test(`decodeTaskMessage() reads Celery's ${name} fixture`, () => {
    const fixture = loadFixture(name);
    const headers = fixture.properties.headers;
    const message = decodeFixture(fixture);
    assert.deepEqual(message, {
      id: headers.id,
      task: headers.task,
      args: [1],
      kwargs: { x: 2 },
      retries: 0,
      eta: null,
      expires: null,
      rootId: headers.id,
      parentId: null,
      group: null,
      timeLimit: [null, null],
      replyTo: REPLY_QUEUE,
      priority: 0, // Celery's default, in the AMQP properties
      origin: CAPTURE.client_origin,
      ignoreResult: false,
      embed: { callbacks: null, errbacks: null, chain: null, chord: null },
      extraHeaders: { lang: "py", shadow: null, group_index: null },
    });
  });

  Deno.test(`encodeTaskMessage() re-encodes ${name} with Celery's body, headers (less nulls) and properties`, () => {
    const fixture = loadFixture(name);
    const { body, props } = encodeTaskMessage(decodeFixture(fixture));
    assert.deepEqual(parseBody(body), fixture.body);
    assert.deepEqual(props, lessCeleryNulls(fixtureProps(fixture)));
    assertHeaderTypes(props.headers, fixture.header_types);
  });
}

Deno.test("decodeTaskMessage() reads the worker's retry re-publish", () => {
  const fixture = loadFixture("task_retry.retry_republish");
  const message = decodeFixture(fixture);
  assert.equal(message.id, CAPTURE.task_ids.task_retry);
  assert.equal(message.retries, 1);
  assert.match(message.eta ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  assert.equal(message.eta, CAPTURE.retry_eta);
  assert.equal(message.parentId, message.id);
  assert.equal(message.rootId, message.id);
  assert.match(message.origin ?? "", /^gen\d+@/);
  assert.equal(message.origin, CAPTURE.worker_origin);
  assert.deepEqual([message.args, message.kwargs], [[1], { x: 2 }]);
});

Deno.test("retryTaskMessage() gives the message Celery's worker re-publishes on retry", () => {
  const original = decodeFixture(loadFixture("task_retry.send_task"));
  const expected = loadFixture("task_retry.retry_republish");
  const retried = retryTaskMessage(original, {
    eta: CAPTURE.retry_eta,
    origin: CAPTURE.worker_origin,
  });
  const { body, props } = encodeTaskMessage(retried);
  assert.deepEqual(parseBody(body), expected.body);
  // Celery writes the retried args as a Python tuple, "(1,)"; dts always writes the list repr.
  const expectedProps = lessCeleryNulls(fixtureProps(expected));
  expectedProps.headers!.argsrepr = "[1]";
  assert.deepEqual(props, expectedProps);
  assertHeaderTypes(props.headers, expected.header_types);
});

Deno.test("retryTaskMessage() keeps the origin when none is given", () => {
  const message = createTaskMessage("task_a", { origin: "gen1@host" });
  const retried = retryTaskMessage(retryTaskMessage(message, { eta: null }), {
    eta: "2026-01-01T00:00:00Z",
  });
  assert.equal(retried.retries, 2);
  assert.equal(retried.origin, "gen1@host");
  assert.equal(retried.parentId, message.id);
  assert.equal(retried.eta, "2026-01-01T00:00:00Z");
});

Deno.test("createTaskMessage() builds a message with Celery's header set (less nulls) and wire types", () => {
  const message = createTaskMessage("task_a", {
    id: CAPTURE.task_ids.task_a,
    args: [1],
    kwargs: { x: 2 },
    replyTo: REPLY_QUEUE,
    origin: CAPTURE.client_origin,
  });
  const fixture = loadFixture("task_a.send_task");
  const { body, props } = encodeTaskMessage(message);
  assert.deepEqual(parseBody(body), fixture.body);
  const expected = lessCeleryNulls(fixtureProps(fixture));
  expected.headers!.lang = "js";
  assert.deepEqual(props, expected);
  assertHeaderTypes(props.headers, fixture.header_types);
});

Deno.test("createTaskMessage() fills defaults and a fresh id", () => {
  const a = createTaskMessage("task_b");
  const b = createTaskMessage("task_b");
  assert.notEqual(a.id, b.id);
  assert.match(a.id, /^[0-9a-f-]{36}$/);
  assert.equal(a.rootId, a.id);
  assert.deepEqual([a.args, a.kwargs, a.retries, a.timeLimit, a.replyTo], [
    [],
    {},
    0,
    [null, null],
    null,
  ]);
  assert.equal(encodeTaskMessage(a).props.replyTo, undefined);
});

Deno.test("encodeTaskMessage() keeps extra headers and lets interpreted fields win", () => {
  const message = createTaskMessage("task_a", {
    timeLimit: [300, 1.5],
    eta: "2026-11-28T10:00:00+00:00",
    headers: { "x-custom": "kept", task: "ignored", stamps: { a: 1 } },
  });
  const decoded = decodeTaskMessage(...pair(encodeTaskMessage(message)));
  assert.equal(decoded.task, "task_a");
  assert.deepEqual(decoded.timeLimit, [300, 1.5]);
  assert.equal(decoded.eta, "2026-11-28T10:00:00+00:00");
  assert.deepEqual(decoded.extraHeaders, {
    lang: "js",
    "x-custom": "kept",
    stamps: { a: 1 },
  });
  assert.deepEqual(decoded, { ...message, extraHeaders: decoded.extraHeaders });
});

function pair(encoded: { body: Uint8Array; props: MessageProps }): [Uint8Array, MessageProps] {
  return [encoded.body, encoded.props];
}

// ---- bad input: one test per reason a worker dead-letters a message ----

const good = encodeTaskMessage(createTaskMessage("task_a", { args: [1], kwargs: { x: 2 } }));

function rejects(
  body: Uint8Array,
  props: MessageProps,
  message: string | RegExp,
  maxBytes?: number,
): void {
  assert.throws(() => decodeTaskMessage(body, props, { maxBytes }), (error: unknown) => {
    assert.ok(error instanceof ProtocolError, String(error));
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

function withBody(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function withHeaders(headers: Record<string, unknown>): MessageProps {
  return { ...good.props, headers: { ...good.props.headers, ...headers } };
}

Deno.test("decodeTaskMessage() rejects a body over maxBytes, naming size and limit", () => {
  rejects(
    good.body,
    good.props,
    `Cannot decode message: body is ${good.body.byteLength} bytes, over the limit of 10 bytes`,
    10,
  );
});

Deno.test("decodeTaskMessage() rejects a body over the 1 MiB default", () => {
  rejects(
    new Uint8Array(1024 * 1024 + 5),
    good.props,
    /body is 1048581 bytes, over the limit of 1048576 bytes/,
  );
});

Deno.test("decodeTaskMessage() never unpickles: a pickle message is rejected by content type", () => {
  rejects(
    new Uint8Array([0x80, 0x04, 0x95]),
    { ...good.props, contentType: "application/x-python-serialize", contentEncoding: "binary" },
    'Cannot decode message: content type "application/x-python-serialize" is not supported (only application/json)',
  );
});

Deno.test("decodeTaskMessage() rejects a content encoding other than utf-8", () => {
  rejects(
    good.body,
    { ...good.props, contentEncoding: "latin-1" },
    /content encoding "latin-1" is not supported/,
  );
});

Deno.test("decodeTaskMessage() rejects invalid JSON", () => {
  rejects(
    new TextEncoder().encode('[[1], {"x": 2}'),
    good.props,
    /^Cannot decode message: body is not valid JSON/,
  );
});

Deno.test("decodeTaskMessage() rejects a body that is not a 3-element array", () => {
  rejects(
    withBody([[1], {}]),
    good.props,
    "Cannot decode task message: body must be [args, kwargs, embed], got an array of 2",
  );
  rejects(withBody("hello"), good.props, /body must be \[args, kwargs, embed\], got "hello"/);
});

Deno.test("decodeTaskMessage() rejects a protocol v1 body, saying v1 is not supported", () => {
  const v1 = { task: "task_a", id: "a44b8ebb", args: [1], kwargs: {}, retries: 0, eta: null };
  rejects(
    withBody(v1),
    { ...good.props, headers: {} },
    /protocol v1 .*only protocol v2 is supported/,
  );
});

Deno.test("decodeTaskMessage() rejects a missing or invalid task header", () => {
  const { task: _task, ...headers } = good.props.headers;
  rejects(
    good.body,
    { ...good.props, headers },
    'Cannot decode task message: header "task" is missing',
  );
  rejects(
    good.body,
    withHeaders({ task: 42 }),
    'Cannot decode task message: header "task" must be a non-empty string, got 42',
  );
  rejects(good.body, withHeaders({ task: "" }), /header "task" must be a non-empty string/);
});

Deno.test("decodeTaskMessage() rejects a missing or invalid id header", () => {
  const { id: _id, ...headers } = good.props.headers;
  rejects(
    good.body,
    { ...good.props, headers },
    'Cannot decode task message: header "id" is missing',
  );
  rejects(good.body, withHeaders({ id: null }), /header "id" must be a non-empty string, got null/);
});

Deno.test("decodeTaskMessage() rejects args that are not an array", () => {
  rejects(
    withBody([{ a: 1 }, {}, null]),
    good.props,
    "Cannot decode task message: args must be an array, got an object",
  );
});

Deno.test("decodeTaskMessage() rejects kwargs that are not an object", () => {
  rejects(
    withBody([[], [1], null]),
    good.props,
    "Cannot decode task message: kwargs must be an object, got an array of 1",
  );
});

Deno.test("decodeTaskMessage() rejects retries that are not a non-negative integer", () => {
  for (const retries of [-1, 1.5, "1"]) {
    rejects(
      good.body,
      withHeaders({ retries }),
      /^Cannot decode task message: header "retries" must be a non-negative integer/,
    );
  }
});

Deno.test("decodeTaskMessage() rejects eta, expires or timelimit of the wrong type", () => {
  rejects(
    good.body,
    withHeaders({ eta: 1795863260 }),
    /header "eta" must be a string or null, got 1795863260/,
  );
  rejects(good.body, withHeaders({ expires: true }), /header "expires" must be a string or null/);
  rejects(good.body, withHeaders({ timelimit: [1] }), /header "timelimit" must be \[hard, soft\]/);
});

Deno.test("decodeTaskMessage() tolerates missing optional headers and a null embed", () => {
  const message = decodeTaskMessage(withBody([[1], {}, null]), {
    headers: { task: "task_a", id: "t1" },
    contentType: "application/json",
  });
  assert.deepEqual(
    [message.retries, message.rootId, message.timeLimit, message.replyTo, message.embed.chord],
    [0, "t1", [null, null], null, null],
  );
});

Deno.test("decodeTaskMessage() drops the headers the broker added on the way, so a retry does not carry them", () => {
  const { body, props } = encodeTaskMessage(createTaskMessage("task_a", { headers: { keep: 1 } }));
  props.headers["x-death"] = [{ queue: "dts.delay.8", reason: "expired", count: 1 }];
  props.headers["x-first-death-queue"] = "dts.delay.8";
  props.headers["x-last-death-reason"] = "expired";
  props.headers["x-delivery-count"] = 2;
  const decoded = decodeTaskMessage(body, props);
  assert.deepEqual(decoded.extraHeaders, { lang: "js", keep: 1 });
});

Deno.test("decodeTaskMessage() refuses an eta or expires that is not a date", () => {
  for (const name of ["eta", "expires"]) {
    const { body, props } = encodeTaskMessage(createTaskMessage("task_a"));
    props.headers[name] = "next tuesday";
    assert.throws(
      () => decodeTaskMessage(body, props),
      (error) =>
        error instanceof ProtocolError &&
        error.message ===
          `Cannot decode task message: header "${name}" must be an ISO-8601 date, got "next tuesday"`,
    );
  }
  const { body, props } = encodeTaskMessage(createTaskMessage("task_a"));
  props.headers.eta = "2026-12-01T10:00:00.123456+00:00";
  assert.equal(decodeTaskMessage(body, props).eta, "2026-12-01T10:00:00.123456+00:00");
});

Deno.test("encodeTaskMessage() leaves out only null headers Celery reads as absent, and keeps them when set", () => {
  const bare = encodeTaskMessage(createTaskMessage("task_a")).props.headers!;
  assert.deepEqual(Object.keys(bare).sort(), [
    "argsrepr",
    "id",
    "ignore_result",
    "kwargsrepr",
    "lang",
    "retries",
    "root_id",
    "task",
  ]);
  const full = createTaskMessage("task_a", {
    eta: "2026-11-28T10:00:00+00:00",
    expires: "2026-11-29T10:00:00+00:00",
    group: "g1",
    parentId: "p1",
    origin: "gen1@host",
    timeLimit: [null, 5],
    headers: { shadow: "alias", group_index: 2 },
  });
  const headers = encodeTaskMessage(full).props.headers!;
  assert.deepEqual(
    [
      headers.eta,
      headers.expires,
      headers.group,
      headers.parent_id,
      headers.origin,
      headers.timelimit,
      headers.shadow,
      headers.group_index,
    ],
    [
      "2026-11-28T10:00:00+00:00",
      "2026-11-29T10:00:00+00:00",
      "g1",
      "p1",
      "gen1@host",
      [
        null,
        5,
      ],
      "alias",
      2,
    ],
  );
  // A null that is not Celery's to default travels as it came.
  const custom = encodeTaskMessage(createTaskMessage("task_a", { headers: { "x-note": null } }));
  assert.equal(custom.props.headers!["x-note"], null);
  assert.ok(Object.hasOwn(custom.props.headers!, "x-note"));
});

Deno.test("a task's AMQP priority is decoded, re-encoded, and kept by its retry; a bad one counts as 0", () => {
  const message = createTaskMessage("task_a", { priority: 7 });
  const { body, props } = encodeTaskMessage(message);
  assert.equal(props.priority, 7);
  const decoded = decodeTaskMessage(body, props);
  assert.equal(decoded.priority, 7);
  assert.equal(encodeTaskMessage(retryTaskMessage(decoded, { eta: null })).props.priority, 7);
  for (const bad of [300, -1, 1.5]) {
    assert.equal(decodeTaskMessage(body, { ...props, priority: bad }).priority, 0, String(bad));
  }
});
