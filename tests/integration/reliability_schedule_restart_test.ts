/**
 * `dts schedule` through a broker SIGKILL (a private RabbitMQ node): two
 * schedulers, `every` 1 s. The lease and the fired-slot record are durable,
 * so after the restart one scheduler leads again, goes on from the recorded
 * slot, fires the latest slot missed while the broker was down once
 * (`catch_up: latest`), and no slot fires twice.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../src/clock.ts";
import { type FiredSlot, Scheduler } from "../../src/schedule/scheduler.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { testLogger } from "../helpers/in_process.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { drainQueue, fastReconnect, waitUntil } from "../helpers/test_kit.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a broker SIGKILL under two schedulers: one leads again from the recorded slot; no slot fires twice", async () => {
  await using broker = await startSecondBroker();
  const fired: FiredSlot[] = [];
  const schedule = {
    name: "restart_tick",
    task: "tick",
    times: { kind: "every" as const, everyMs: 1000 },
    args: [],
    kwargs: {},
    jitterMs: 0,
    catchUp: "latest" as const,
  };
  const stops: AbortController[] = [];
  const schedulers: { scheduler: Scheduler; done: Promise<void>; transport: AmqpTransport }[] = [];
  for (let i = 0; i < 2; i++) {
    const transport = await fastReconnect(broker.url);
    const scheduler = new Scheduler({
      transport,
      schedules: [{ schedule, route: { name: "task_tick", queue: "scheduled_q" } }],
      logger: testLogger(),
      clock: systemClock,
      onFired: (f) => fired.push(f),
    });
    const stop = new AbortController();
    stops.push(stop);
    schedulers.push({ scheduler, transport, done: (await scheduler.start(stop.signal)).done });
  }
  try {
    await waitUntil("3 slots fired", () => fired.length >= 3, 10_000);
    await broker.kill();
    await sleep(2500);
    await broker.restart();
    const backAt = Date.now();
    await waitUntil(
      "a leader again",
      () => schedulers.filter((s) => s.scheduler.leading().length === 1).length === 1,
      30_000,
    );
    await waitUntil(
      "3 more slots after the restart",
      () => fired.filter((f) => f.slot > backAt).length >= 3,
      15_000,
    );
  } finally {
    for (const stop of stops) stop.abort();
    for (const s of schedulers) await s.done;
  }
  const check = await AmqpTransport.connect(broker.url);
  const inQueue = await drainQueue(check, "scheduled_q");
  await check.close();
  for (const s of schedulers) await s.transport.close();

  const slots = fired.map((f) => f.slot);
  const caughtUp = fired.filter((f) => f.catchUp);
  console.log(
    `fired ${slots.length} slots around the broker kill; caught up ${caughtUp.length} (late ${
      caughtUp.map((f) => f.lateMs).join(", ")
    } ms); in the queue: ${inQueue.length}`,
  );
  assert.equal(new Set(slots).size, slots.length, `no slot fired twice: ${slots}`);
  assert.ok(caughtUp.length <= 1, "at most the latest missed slot is caught up");
  // Persistent task messages confirmed before the kill survive it.
  const ids = new Set(inQueue.map((d) => d.props.headers.id));
  assert.equal(ids.size, inQueue.length, "no task id twice in the queue");
  for (const f of fired) {
    assert.ok(ids.has(f.taskId), `slot ${new Date(f.slot).toISOString()} is in the queue`);
  }
});
