/**
 * Golden tests of the events dts sends against Celery 5.2: the worker
 * events against the captured messages (`tests/fixtures/celery/event.*`),
 * the task events against the fields Celery's worker (`worker/request.py`,
 * `worker/strategy.py`) and client (`app/amqp.py`) send, in their order.
 */
import assert from "node:assert/strict";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import { EVENT_EXCHANGE, localUtcOffset } from "../protocol/celery_event_message.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { Delivery } from "../transport/transport.ts";
import { EventEmitter } from "./event_emitter.ts";
import { celeryTaskEvents, sendTaskSent } from "./task_events.ts";
import { startHeartbeat } from "./worker_heartbeat.ts";
import { fixtureProps, loadFixture } from "../../tests/helpers/celery_fixtures.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";

const ENVELOPE = ["hostname", "utcoffset", "pid", "clock"];
const TAIL = ["timestamp", "type"];

/** A memory broker with `celeryev` and one queue per routing key, as Celery's receivers bind. */
async function capture(routingKeys: string[]) {
  const transport = new MemoryTransport(new MemoryBroker());
  const emitter = new EventEmitter({
    transport,
    hostname: "worker-a.1@host",
    clock: new ManualClock(1_796_172_228_770),
  });
  await emitter.prepare();
  for (const key of routingKeys) {
    await transport.assertQueue(`q.${key}`, { durable: false });
    await transport.bindQueue(`q.${key}`, EVENT_EXCHANGE, key);
  }
  return {
    transport,
    emitter,
    /** The one message routed with `key`. */
    async take(key: string): Promise<Delivery> {
      await emitter.flush(1000);
      const delivery = await transport.get(`q.${key}`);
      assert.ok(delivery, `no event routed with "${key}"`);
      return delivery;
    },
  };
}

const bodyOf = (delivery: Delivery) =>
  JSON.parse(new TextDecoder().decode(delivery.body)) as Record<string, unknown>;
const typesOf = (body: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? "array" : typeof v]),
  );

for (const type of ["worker-online", "worker-heartbeat", "worker-offline"]) {
  Deno.test(`startHeartbeat() sends ${type} as Celery 5.2 does: routing key, properties, fields in order and their types`, async () => {
    const fixture = loadFixture(`event.${type}`);
    const key = fixture.routing_key;
    const clock = new ManualClock(0);
    const { transport, emitter, take } = await capture([key]);
    await using _ = transport;
    const heart = startHeartbeat(emitter, { active: () => 0, processed: () => 4 }, {
      version: "0.1.0",
      clock,
    });
    clock.tick(2000);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the beat that tick woke
    await heart.stop();
    const delivery = await take(key);
    const body = bodyOf(delivery);
    const celery = fixture.body as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), Object.keys(celery));
    assert.deepEqual(typesOf(body), typesOf(celery));
    // Celery's delivery_mode 1 is transient: a delivery says so by no `persistent`.
    const { persistent, ...celeryProps } = fixtureProps(fixture);
    assert.equal(persistent, false);
    assert.deepEqual(delivery.props, { ...celeryProps, headers: { hostname: "worker-a.1@host" } });
    assert.equal(body.type, type);
    assert.equal(body.freq, 2);
    assert.equal(body.processed, 4);
    assert.equal(body.sw_ident, "dts");
    assert.equal(body.pid, Deno.pid);
    assert.equal(body.utcoffset, localUtcOffset());
    assert.equal(body.timestamp, 1_796_172_228.77);
  });
}

const message = createTaskMessage("task_a", {
  id: "6a7d3f8e-0000-4000-8000-000000000001",
  args: [1, "two"],
  kwargs: { x: null },
  retries: 2,
  eta: "2026-12-03T10:00:00.000Z",
});

const TASK_EVENTS: [string, (events: ReturnType<typeof celeryTaskEvents>) => void, string[]][] = [
  ["task-received", (e) => e.received(message), [
    "uuid",
    "name",
    "args",
    "kwargs",
    "root_id",
    "parent_id",
    "retries",
    "eta",
    "expires",
  ]],
  ["task-started", (e) => e.started(message), ["uuid"]],
  ["task-succeeded", (e) => e.succeeded(message, { ok: true }, 1500), [
    "uuid",
    "result",
    "runtime",
  ]],
  [
    "task-failed",
    (e) => e.failed(message, { type: "ValueError", message: "boom", stack: "at x" }),
    [
      "uuid",
      "exception",
      "traceback",
    ],
  ],
  ["task-retried", (e) => e.retried(message, { type: "Error", message: "again" }), [
    "uuid",
    "exception",
    "traceback",
  ]],
  ["task-revoked", (e) => e.revoked(message, { terminated: false, expired: true }), [
    "uuid",
    "terminated",
    "signum",
    "expired",
  ]],
];

for (const [type, send, fields] of TASK_EVENTS) {
  Deno.test(`celeryTaskEvents() sends ${type} with Celery's fields in Celery's order`, async () => {
    const key = type.replace("-", ".");
    const { transport, emitter, take } = await capture([key]);
    await using _ = transport;
    send(celeryTaskEvents(emitter));
    const delivery = await take(key);
    const body = bodyOf(delivery);
    assert.deepEqual(Object.keys(body), [...ENVELOPE, ...fields, ...TAIL]);
    assert.equal(body.type, type);
    assert.equal(body.uuid, message.id);
    assert.equal(body.hostname, "worker-a.1@host");
    assert.deepEqual(delivery.props.headers, { hostname: "worker-a.1@host" });
  });
}

Deno.test("celeryTaskEvents() writes reprs and seconds where Celery does", async () => {
  const { transport, emitter, take } = await capture(["task.*"]);
  await using _ = transport;
  const events = celeryTaskEvents(emitter);
  events.received(message);
  events.succeeded(message, { ok: true, n: [1.5] }, 1500);
  events.failed(message, { type: "ValueError", message: "it's bad", stack: "Error: x\n    at y" });
  events.revoked(message, { terminated: true, expired: false });
  const [received, succeeded, failed, revoked] = [
    bodyOf(await take("task.*")),
    bodyOf(await take("task.*")),
    bodyOf(await take("task.*")),
    bodyOf(await take("task.*")),
  ];
  assert.deepEqual(
    [received.args, received.kwargs, received.retries, received.eta, received.expires],
    ["[1, 'two']", "{'x': None}", 2, "2026-12-03T10:00:00.000Z", null],
  );
  assert.equal(received.root_id, message.rootId);
  assert.deepEqual([succeeded.result, succeeded.runtime], ["{'ok': True, 'n': [1.5]}", 1.5]);
  assert.deepEqual([failed.exception, failed.traceback], [
    `ValueError("it's bad")`,
    "Error: x\n    at y",
  ]);
  assert.deepEqual([revoked.terminated, revoked.signum, revoked.expired], [true, 15, false]);
  assert.deepEqual(
    [received.clock, succeeded.clock, failed.clock, revoked.clock],
    [1, 2, 3, 4],
    "a Lamport clock, forwarded per event",
  );
});

Deno.test("sendTaskSent() sends task-sent with Celery's client fields in order", async () => {
  const { transport, emitter, take } = await capture(["task.sent"]);
  await using _ = transport;
  sendTaskSent(emitter, "queue_a", message);
  const body = bodyOf(await take("task.sent"));
  assert.deepEqual(Object.keys(body), [
    ...ENVELOPE,
    "uuid",
    "root_id",
    "parent_id",
    "name",
    "args",
    "kwargs",
    "retries",
    "eta",
    "expires",
    "queue",
    "exchange",
    "routing_key",
    ...TAIL,
  ]);
  assert.deepEqual([body.name, body.queue, body.exchange, body.routing_key], [
    "task_a",
    "queue_a",
    "",
    "queue_a",
  ]);
});
