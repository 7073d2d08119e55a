import assert from "node:assert/strict";
import type { Clock } from "../clock.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { openTransport } from "../transport/open_transport.ts";
import type { Transport } from "../transport/transport.ts";
import type { CeleryEvent } from "./celery_event.ts";
import { EventStore } from "./event_store.ts";
import { FleetMonitor } from "./fleet_monitor.ts";
import { SseHub } from "./sse_hub.ts";

const NOW_S = 1_800_000_000; // Unix seconds
const fixedClock: Clock = { now: () => NOW_S * 1000, sleep: () => Promise.resolve() };
const ev = (type: string, agoS: number, fields: Partial<CeleryEvent>): CeleryEvent => ({
  type,
  timestamp: NOW_S - agoS,
  hostname: type === "task-sent" ? "gen1@host" : "worker-a.1@host",
  ...fields,
});

/** A monitor on a fixed clock, charting 15 minutes (10 s buckets). */
function newMonitor(transport: Transport, store: EventStore, hub: SseHub): FleetMonitor {
  return new FleetMonitor({
    transport,
    store,
    hub,
    routes: [],
    retentionMs: 60_000,
    resultsDir: ".",
    chartSpanMs: 15 * 60_000,
    clock: fixedClock,
  });
}

Deno.test("FleetMonitor.series() charts runtime for every finished task, and sent-to-result where task-sent was seen", async () => {
  await using transport = await openTransport("memory://", { memoryBroker: new MemoryBroker() });
  using store = new EventStore(":memory:");
  const hub = new SseHub();
  const monitor = newMonitor(transport, store, hub);
  try {
    monitor.ingest([
      // Sent 3 s before it finished, of which 0.5 s running: it waited in the queue.
      ev("task-sent", 8, { uuid: "sent", name: "task_a" }),
      ev("task-received", 6, { uuid: "sent" }),
      ev("task-started", 5.5, { uuid: "sent" }),
      ev("task-succeeded", 5, { uuid: "sent", runtime: 0.5 }),
      // No task-sent (a sender without events): runtime only.
      ev("task-received", 6, { uuid: "unsent", name: "task_a" }),
      ev("task-started", 6, { uuid: "unsent" }),
      ev("task-failed", 5.2, { uuid: "unsent", exception: "ValueError('x')" }),
      // Revoked: no result anybody waited for.
      ev("task-sent", 7, { uuid: "revoked", name: "task_a" }),
      ev("task-revoked", 5.1, { uuid: "revoked", terminated: false }),
    ]);
    const series = monitor.series();
    assert.equal(series.bucketMs, 10_000);
    const bucket = series.t.indexOf(NOW_S - 10);
    assert.ok(bucket >= 0, JSON.stringify(series.t));
    assert.equal(series.throughput[bucket] * 10, 3, "all three finished in this bucket");
    assert.deepEqual([series.p50[bucket], series.max[bucket]], [500, 800], "runtime");
    assert.deepEqual([series.sentP50[bucket], series.sentP95[bucket]], [3000, 3000]);
    assert.ok(series.sentP50.every((v, i) => i === bucket || v === null));
  } finally {
    hub.close();
    await monitor.stop();
  }
});

Deno.test("FleetMonitor asks the workers for stats as soon as one comes online, not at the next poll", async () => {
  await using transport = await openTransport("memory://", { memoryBroker: new MemoryBroker() });
  using store = new EventStore(":memory:");
  const hub = new SseHub();
  const monitor = newMonitor(transport, store, hub);
  let asked = 0;
  monitor.pollWorkers = () => {
    asked++;
    return Promise.resolve();
  };
  try {
    monitor.ingest([ev("worker-heartbeat", 1, {})]);
    assert.equal(asked, 0, "a heartbeat of a known worker waits for the poll");
    monitor.ingest([ev("worker-online", 0, {}), ev("worker-online", 0, {})]);
    assert.equal(asked, 1, "asked once for the new worker");
    await new Promise((resolve) => setTimeout(resolve, 0));
    monitor.ingest([ev("worker-online", 0, {})]);
    assert.equal(asked, 2, "and again for the next one");
  } finally {
    hub.close();
    await monitor.stop();
  }
});
