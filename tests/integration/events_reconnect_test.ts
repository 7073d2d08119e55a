/**
 * `subscribeEvents()` across a lost connection, on a private RabbitMQ node
 * (the shared broker is never restarted): after the broker is SIGKILLed
 * and started again, the subscription's queue is declared and bound again
 * and its consumer resumes, so events sent afterwards still arrive.
 */
import assert from "node:assert/strict";
import { type FleetEvent, subscribeEvents } from "../../src/events/event_stream.ts";
import { encodeEvent } from "../../src/protocol/celery_event_message.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { fastReconnect, waitUntil } from "../helpers/test_kit.ts";

const SENDER = { hostname: "worker-r@test", utcoffset: 0, pid: 7 };

async function sendEvent(transport: Transport, uuid: string, clock: number): Promise<void> {
  const sent = encodeEvent("task-received", SENDER, {
    clock,
    timestampMs: Date.now(),
    fields: { uuid },
  });
  await transport.publish(sent.routingKey, sent.body, sent.options);
}

Deno.test("subscribeEvents() gets events again after the broker is killed and restarted: its queue and consumer come back", async () => {
  await using broker = await startSecondBroker();
  await using monitor = await fastReconnect(broker.url, "events-monitor");
  await using sender = await fastReconnect(broker.url, "events-sender");
  const seen: FleetEvent[] = [];
  await using events = await subscribeEvents(monitor, (event) => seen.push(event));
  await sendEvent(sender, "before", 1);
  await waitUntil("the event sent before", () => seen.some((e) => e.uuid === "before"));

  await broker.kill();
  await broker.restart();
  await waitUntil("both transports back", () => monitor.connected && sender.connected, 30_000);
  // The queue was not durable: only a re-declaration brings it back, with its binding.
  await waitUntil(
    "the queue declared again",
    async () => (await sender.inspectQueue(events.queue))?.consumers === 1,
    15_000,
  );
  await sendEvent(sender, "after", 2);
  await waitUntil("the event sent after the restart", () => seen.some((e) => e.uuid === "after"));
  assert.deepEqual(seen.map((e) => e.uuid), ["before", "after"]);
  let ended = false;
  void events.done.then(() => ended = true);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(ended, false, "the stream goes on");
});

Deno.test("subscribeEvents().close() does not wait for a broker that is away (dts ui's Ctrl-C)", async () => {
  await using broker = await startSecondBroker();
  const monitor = await fastReconnect(broker.url, "events-monitor");
  try {
    const events = await subscribeEvents(monitor, () => {});
    await broker.kill();
    await waitUntil("the monitor to notice", () => !monitor.connected, 15_000);
    const started = performance.now();
    await events.close();
    const tookMs = performance.now() - started;
    assert.ok(tookMs < 5000, `close() took ${Math.round(tookMs)} ms`);
  } finally {
    await monitor.close();
  }
});
