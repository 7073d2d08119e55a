/**
 * Golden tests for the worker events Celery 5.2 publishes on `celeryev`
 * (worker-online, worker-heartbeat, worker-offline). dts neither sends nor
 * follows Celery events; what matters is that one reaching a dts consumer is
 * read as JSON and then refused cleanly by every dts decoder, never mistaken
 * for a task, a result or a control request.
 */
import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { decodeControlRequest } from "./celery_control_message.ts";
import { decodeResultMessage } from "./celery_result_message.ts";
import { decodeTaskMessage } from "./celery_task_message.ts";
import { decodeJsonBody } from "./json_body.ts";
import {
  captureContext,
  fixtureBody,
  fixtureProps,
  loadFixture,
} from "../../tests/helpers/celery_fixtures.ts";

const EVENTS = [
  ["event.worker-online", "worker-online"],
  ["event.worker-heartbeat", "worker-heartbeat"],
  ["event.worker-offline", "worker-offline"],
] as const;

for (const [name, type] of EVENTS) {
  Deno.test(`decodeJsonBody() reads Celery's ${type} event as the captured JSON`, () => {
    const fixture = loadFixture(name);
    const body = decodeJsonBody(fixtureBody(fixture), fixtureProps(fixture));
    assert.deepEqual(body, fixture.body);
    const event = body as Record<string, unknown>;
    assert.equal(event.type, type);
    assert.equal(event.hostname, captureContext().worker_name);
    assert.equal(fixture.exchange, "celeryev");
    assert.equal(fixture.routing_key, type.replace("-", "."));
  });

  Deno.test(`decodeTaskMessage() refuses Celery's ${type} event with a reason to dead-letter under`, () => {
    const fixture = loadFixture(name);
    assert.throws(
      () => decodeTaskMessage(fixtureBody(fixture), fixtureProps(fixture)),
      (error) =>
        error instanceof ProtocolError &&
        error.message ===
          "Cannot decode task message: body must be [args, kwargs, embed], got an object",
    );
  });

  Deno.test(`decodeResultMessage() and decodeControlRequest() refuse Celery's ${type} event`, () => {
    const fixture = loadFixture(name);
    const [body, props] = [fixtureBody(fixture), fixtureProps(fixture)];
    assert.throws(() => decodeResultMessage(body, props), ProtocolError);
    assert.throws(() => decodeControlRequest(body, props), ProtocolError);
  });
}
