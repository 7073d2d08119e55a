import assert from "node:assert/strict";
import { decodeEvents } from "./fleet_event.ts";
import { fixtureBody, fixtureProps, loadFixture } from "../../tests/helpers/celery_fixtures.ts";
import type { MessageProps } from "../transport/transport.ts";

const JSON_PROPS: MessageProps = {
  headers: {},
  contentType: "application/json",
  contentEncoding: "utf-8",
};
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

Deno.test("decodeEvents() reads Celery's captured worker-heartbeat into a FleetEvent", () => {
  const fixture = loadFixture("event.worker-heartbeat");
  const { events, skipped } = decodeEvents(fixtureBody(fixture), fixtureProps(fixture));
  assert.deepEqual(skipped, []);
  assert.equal(events.length, 1);
  const [event] = events;
  const body = fixture.body as Record<string, unknown>;
  assert.equal(event.type, "worker-heartbeat");
  assert.equal(event.hostname, body.hostname);
  assert.equal(event.timestampMs, (body.timestamp as number) * 1000);
  assert.equal(event.uuid, null);
  assert.equal(event.clock, body.clock);
  assert.equal(event.fields.freq, 2);
  assert.deepEqual(event.fields.loadavg, body.loadavg);
  assert.equal(event.fields.sw_ident, "py-celery");
  assert.equal("type" in event.fields, false);
  assert.equal("timestamp" in event.fields, false);
});

Deno.test("decodeEvents() reads a task.multi batch as its events, skipping the entries that are no event", () => {
  const batch = [
    { hostname: "w@h", uuid: "id-1", name: "task_a", timestamp: 1.5, type: "task-received" },
    { hostname: "w@h", uuid: "id-1", timestamp: 2, type: "task-started", clock: 7 },
    { hostname: "w@h", timestamp: 3, type: "task-succeeded" }, // a task event without its uuid
    "not an object",
  ];
  const { events, skipped } = decodeEvents(encode(JSON.stringify(batch)), JSON_PROPS);
  assert.deepEqual(events.map((e) => [e.type, e.uuid, e.timestampMs, e.clock]), [
    ["task-received", "id-1", 1500, null],
    ["task-started", "id-1", 2000, 7],
  ]);
  assert.equal(events[0].fields.name, "task_a");
  assert.deepEqual(skipped, ["bad_shape", "bad_shape"]);
});

Deno.test("decodeEvents() skips hostile bodies with a reason and never throws", () => {
  const cases: [Uint8Array, MessageProps, string][] = [
    [encode("{not json"), JSON_PROPS, "not_json"],
    [new Uint8Array([0xff, 0xfe, 0x7b]), JSON_PROPS, "not_json"],
    [encode("{}"), { headers: {}, contentType: "application/x-python-serialize" }, "not_json"],
    [encode("[".repeat(100_000) + "]".repeat(100_000)), JSON_PROPS, "too_deep"],
    [encode(`{"a": "${"x".repeat(2 * 1024 * 1024)}"}`), JSON_PROPS, "too_large"],
    [encode("null"), JSON_PROPS, "bad_shape"],
    [encode('{"type": 5, "hostname": "h", "timestamp": 1}'), JSON_PROPS, "bad_shape"],
    [
      encode('{"type": "worker-online", "hostname": "h", "timestamp": "now"}'),
      JSON_PROPS,
      "bad_shape",
    ],
    [
      encode(`{"type": "worker-online", "hostname": "${"h".repeat(1000)}", "timestamp": 1}`),
      JSON_PROPS,
      "bad_shape",
    ],
  ];
  for (const [body, props, reason] of cases) {
    const decoded = decodeEvents(body, props);
    assert.deepEqual(decoded, { events: [], skipped: [reason] }, `expected ${reason}`);
  }
});

Deno.test("decodeEvents() keeps at most maxBatch events of one batch", () => {
  const one = { hostname: "w@h", timestamp: 1, type: "worker-heartbeat" };
  const body = encode(JSON.stringify(Array.from({ length: 5 }, () => one)));
  const { events, skipped } = decodeEvents(body, JSON_PROPS, { maxBatch: 3 });
  assert.equal(events.length, 3);
  assert.equal(skipped.length, 2);
});
