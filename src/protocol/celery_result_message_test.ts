import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import type { MessageProps } from "../transport/transport.ts";
import {
  decodeException,
  decodeResultMessage,
  encodeException,
  encodeResultMessage,
  type ResultMessage,
} from "./celery_result_message.ts";
import {
  captureContext,
  fixtureBody,
  fixtureProps,
  loadFixture,
  parseBody,
} from "../../tests/helpers/celery_fixtures.ts";

const RESULT_FIXTURES = [
  "task_a.result.success",
  "task_fail.result.failure",
  "task_retry.result.retry",
  "task_retry.result.success",
];

for (const name of RESULT_FIXTURES) {
  Deno.test(`decodeResultMessage() and encodeResultMessage() round-trip Celery's ${name}`, () => {
    const fixture = loadFixture(name);
    const wire = fixture.body as Record<string, unknown>;
    const result = decodeResultMessage(fixtureBody(fixture), fixtureProps(fixture));
    assert.deepEqual(result, {
      taskId: wire.task_id,
      status: wire.status,
      result: wire.result,
      traceback: wire.traceback,
      children: wire.children,
      dateDone: null,
    });
    const { body, props } = encodeResultMessage(result);
    assert.deepEqual(parseBody(body), fixture.body);
    assert.deepEqual(props, fixtureProps(fixture));
  });
}

Deno.test("decodeResultMessage() reads Celery's FAILURE with its exception and traceback", () => {
  const fixture = loadFixture("task_fail.result.failure");
  const result = decodeResultMessage(fixtureBody(fixture), fixtureProps(fixture));
  assert.equal(result.status, "FAILURE");
  assert.deepEqual(decodeException(result.result), {
    type: "ValueError",
    message: "boom: task_fail always fails",
    module: "builtins",
  });
  assert.match(result.traceback ?? "", /ValueError: boom: task_fail always fails\n$/);
});

Deno.test("decodeResultMessage() reads Celery's RETRY with its exception and children", () => {
  const fixture = loadFixture("task_retry.result.retry");
  const result = decodeResultMessage(fixtureBody(fixture), fixtureProps(fixture));
  assert.equal(result.status, "RETRY");
  assert.deepEqual(decodeException(result.result), {
    type: "RuntimeError",
    message: "transient, please retry",
    module: "builtins",
  });
  assert.deepEqual(result.children, [[[captureContext().task_ids.task_retry, null], null]]);
});

Deno.test("encodeResultMessage() writes extended and dts fields in snake_case and reads them back", () => {
  const result: ResultMessage = {
    taskId: "t1",
    status: "SUCCESS",
    result: "Hello from Task A",
    traceback: null,
    children: [],
    dateDone: "2026-11-28T10:00:00.340Z",
    name: "task_a",
    worker: "worker-a@host",
    retries: 0,
    queue: "queue_a",
    runtimeMs: 106.5,
    receivedAt: "2026-11-28T10:00:00.100Z",
    startedAt: null,
    delayMs: 3,
  };
  const { body, props } = encodeResultMessage(result);
  assert.deepEqual(parseBody(body), {
    task_id: "t1",
    status: "SUCCESS",
    result: "Hello from Task A",
    traceback: null,
    children: [],
    date_done: "2026-11-28T10:00:00.340Z",
    name: "task_a",
    worker: "worker-a@host",
    retries: 0,
    queue: "queue_a",
    runtime_ms: 106.5,
    received_at: "2026-11-28T10:00:00.100Z",
    started_at: null,
    delay_ms: 3,
  });
  assert.deepEqual(decodeResultMessage(body, props), result);
});

Deno.test("decodeResultMessage() leaves out optional fields of the wrong type", () => {
  const body = new TextEncoder().encode(
    JSON.stringify({
      task_id: "t1",
      status: "SUCCESS",
      result: 1,
      worker: 5,
      retries: "x",
      queue: "q",
    }),
  );
  const result = decodeResultMessage(body, { headers: {}, contentType: "application/json" });
  assert.deepEqual(result, {
    taskId: "t1",
    status: "SUCCESS",
    result: 1,
    traceback: null,
    children: [],
    dateDone: null,
    queue: "q",
  });
});

Deno.test("decodeResultMessage() takes the task id from correlation_id when the body lacks it", () => {
  const body = new TextEncoder().encode('{"status": "STARTED", "result": {"pid": 1}}');
  const result = decodeResultMessage(body, {
    headers: {},
    contentType: "application/json",
    correlationId: "t9",
  });
  assert.equal(result.taskId, "t9");
});

function rejects(value: unknown, message: RegExp, props: Partial<MessageProps> = {}): void {
  const body = new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
  assert.throws(
    () => decodeResultMessage(body, { headers: {}, contentType: "application/json", ...props }),
    (error: unknown) => error instanceof ProtocolError && message.test(error.message),
  );
}

Deno.test("decodeResultMessage() throws ProtocolError for bad bodies", () => {
  rejects("{", /^Cannot decode message: body is not valid JSON/);
  rejects(
    { task_id: "t" },
    /^Cannot decode message: content type "application\/x-python-serialize"/,
    {
      contentType: "application/x-python-serialize",
    },
  );
  rejects([1], /^Cannot decode result message: body must be an object, got an array$/);
  rejects({ status: "SUCCESS" }, /^Cannot decode result message: "task_id" is missing$/);
  rejects({ task_id: "t", status: "PROGRESS" }, /"status" must be a Celery state, got "PROGRESS"/);
  rejects(
    { task_id: "t", status: "FAILURE", traceback: 1 },
    /"traceback" must be a string or null/,
  );
  rejects({ task_id: "t", status: "SUCCESS", children: {} }, /"children" must be an array/);
});

Deno.test("encodeException() sends Python built-in names as builtins and others as dts.errors", () => {
  assert.deepEqual(encodeException({ type: "ValueError", message: "boom" }), {
    exc_type: "ValueError",
    exc_message: ["boom"],
    exc_module: "builtins",
  });
  assert.equal(encodeException({ type: "TypeError", message: "x" }).exc_module, "builtins");
  assert.equal(encodeException({ type: "RangeError", message: "x" }).exc_module, "dts.errors");
  assert.equal(encodeException({ type: "Error", message: "x" }).exc_module, "dts.errors");
  assert.equal(encodeException({ type: "print", message: "x" }).exc_module, "dts.errors");
  assert.equal(encodeException({ type: "SystemExit", message: "x" }).exc_module, "dts.errors");
  assert.equal(
    encodeException({ type: "Retry", message: "x", module: "celery.exceptions" }).exc_module,
    "celery.exceptions",
  );
});

Deno.test("encodeException() matches the exception Celery wrote in the FAILURE fixture", () => {
  const fixture = loadFixture("task_fail.result.failure");
  const wire = (fixture.body as Record<string, unknown>).result;
  assert.deepEqual(
    encodeException({ type: "ValueError", message: "boom: task_fail always fails" }),
    wire,
  );
  assert.deepEqual(encodeException(decodeException(wire)), wire);
});

Deno.test("decodeException() shows the message as Python's str(exception) would", () => {
  const decode = (exc_message: unknown) =>
    decodeException({ exc_type: "E", exc_module: "m", exc_message }).message;
  assert.equal(decode([]), "");
  assert.equal(decode(["one"]), "one");
  assert.equal(decode([42]), "42");
  assert.equal(decode(["a", 1, null]), "('a', 1, None)");
  assert.equal(decode("plain string"), "plain string");
  assert.equal(decode(undefined), "");
});

Deno.test("decodeException() tolerates other shapes", () => {
  assert.deepEqual(decodeException("oops"), { type: "Exception", message: "oops" });
  assert.deepEqual(decodeException(null), { type: "Exception", message: "" });
  assert.deepEqual(decodeException({ type: "TypeError", message: "bad", stack: "at x" }), {
    type: "TypeError",
    message: "bad",
    stack: "at x",
  });
  assert.deepEqual(decodeException({ weird: 1 }), { type: "Exception", message: "{'weird': 1}" });
  assert.deepEqual(decodeException({ exc_type: "KeyError", exc_message: ["k"] }), {
    type: "KeyError",
    message: "k",
  });
});
