import assert from "node:assert/strict";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { encodeEvent, EVENT_EXCHANGE } from "../protocol/celery_event_message.ts";
import { type FleetEvent, subscribeEvents } from "./event_stream.ts";

const SENDER = { hostname: "worker-a@host", utcoffset: 0, pid: 42 };

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), "condition not met in time");
}

Deno.test("subscribeEvents() hands each event to the callback in order, skips junk, and close() removes its queue", async () => {
  const broker = new MemoryBroker();
  await using transport = new MemoryTransport(broker);
  const seen: FleetEvent[] = [];
  const skips: string[] = [];
  const events = await subscribeEvents(transport, (event) => seen.push(event), {
    onSkip: (reason) => skips.push(reason),
  });
  assert.match(events.queue, /^celeryev\.[0-9a-f-]{36}$/);
  for (const [clock, type] of [[1, "task-received"], [2, "task-started"]] as const) {
    const sent = encodeEvent(type, SENDER, {
      clock,
      timestampMs: 1000 * clock,
      fields: { uuid: "t1" },
    });
    await transport.publish(sent.routingKey, sent.body, sent.options);
  }
  await transport.publish("task.multi", new TextEncoder().encode("{oops"), {
    exchange: EVENT_EXCHANGE,
    contentType: "application/json",
  });
  await until(() => seen.length === 2 && skips.length === 1);
  assert.deepEqual(seen.map((e) => [e.type, e.uuid, e.clock]), [
    ["task-received", "t1", 1],
    ["task-started", "t1", 2],
  ]);
  assert.deepEqual(events.stats.skipped.not_json, 1);
  assert.equal(events.stats.received, 2);
  await events.close();
  await events.done;
  assert.equal(await transport.inspectQueue(events.queue), null);
});

Deno.test("subscribeEvents() with patterns gets only the matching events; a throwing callback is counted, not fatal", async () => {
  const broker = new MemoryBroker();
  await using transport = new MemoryTransport(broker);
  const seen: string[] = [];
  await using events = await subscribeEvents(transport, (event) => {
    seen.push(event.type);
    if (event.type === "worker-online") throw new Error("callback bug");
  }, { patterns: ["worker.*"] });
  for (const type of ["worker-online", "task-succeeded", "worker-heartbeat"]) {
    const sent = encodeEvent(type, SENDER, { clock: 1, timestampMs: 1, fields: { uuid: "t" } });
    await transport.publish(sent.routingKey, sent.body, sent.options);
  }
  await until(() => seen.length === 2);
  assert.deepEqual(seen, ["worker-online", "worker-heartbeat"]);
  assert.equal(events.stats.callbackErrors, 1);
});
