import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import type { ScheduleConfig } from "../config/schedule_schema.ts";
import { BrokerError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { recordFired } from "./fired_slots.ts";
import { type FiredSlot, Scheduler } from "./scheduler.ts";
import { slotTaskId } from "./schedule_times.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function schedule(overrides: Partial<ScheduleConfig> = {}): ScheduleConfig {
  return {
    name: "tick",
    task: "a",
    times: { kind: "every", everyMs: 100 },
    args: [],
    kwargs: {},
    jitterMs: 0,
    catchUp: "latest",
    ...overrides,
  };
}

function startScheduler(
  broker: MemoryBroker,
  config: ScheduleConfig,
  fired: FiredSlot[],
  transport: MemoryTransport = new MemoryTransport(broker),
) {
  const stop = new AbortController();
  const scheduler = new Scheduler({
    transport,
    schedules: [{ schedule: config, route: { name: "task_a", queue: "queue_a" } }],
    logger: silentLogger,
    clock: systemClock,
    onFired: (f) => fired.push(f),
  });
  const started = scheduler.start(stop.signal);
  return {
    scheduler,
    transport,
    async stop() {
      stop.abort();
      await (await started).done;
      await transport.close();
    },
  };
}

Deno.test("Scheduler: two schedulers, the leader's connection closed halfway: each slot fired once, none skipped", async () => {
  using broker = new MemoryBroker();
  const fired: FiredSlot[] = [];
  const first = startScheduler(broker, schedule(), fired);
  await sleep(50);
  const second = startScheduler(broker, schedule(), fired);
  await sleep(550);
  const leader = first.scheduler.leading().length === 1 ? first : second;
  assert.equal(first.scheduler.leading().length + second.scheduler.leading().length, 1);
  await leader.transport.close(); // the broker takes its lease back: the other leads
  await sleep(550);
  const other = leader === first ? second : first;
  assert.deepEqual(other.scheduler.leading(), ["tick"]);
  await first.stop();
  await second.stop();

  const slots = fired.map((f) => f.slot);
  assert.ok(slots.length >= 9, `fired ${slots.length}`);
  assert.equal(new Set(slots).size, slots.length, "no slot fired twice");
  for (let i = 1; i < slots.length; i++) assert.equal(slots[i] - slots[i - 1], 100, "none skipped");
  // And the queue holds one task per slot, with the derived id.
  const probe = new MemoryTransport(broker);
  const ids = [];
  for (let d = await probe.get("queue_a"); d !== null; d = await probe.get("queue_a")) {
    ids.push(d.props.headers.id);
  }
  assert.deepEqual(ids, await Promise.all(slots.map((slot) => slotTaskId("tick", slot))));
  await probe.close();
});

Deno.test("Scheduler: catch_up latest fires the latest slot missed while none led, once; none skips it", async () => {
  for (const catchUp of ["latest", "none"] as const) {
    using broker = new MemoryBroker();
    const name = `tick_${catchUp}`;
    const config = schedule({ name, times: { kind: "every", everyMs: 1000 }, catchUp });
    // A leader fired 3 slots ago, then every scheduler was gone.
    const now = Date.now();
    const last = (Math.floor(now / 1000) - 3) * 1000;
    const setup = new MemoryTransport(broker);
    const { readLastFired } = await import("./fired_slots.ts");
    await readLastFired(setup, name); // declares the record queue
    await recordFired(setup, name, last, await slotTaskId(name, last));
    const fired: FiredSlot[] = [];
    const scheduler = startScheduler(broker, config, fired);
    await sleep(150);
    await scheduler.stop();
    await setup.close();
    if (catchUp === "latest") {
      assert.equal(fired.length, 1, JSON.stringify(fired));
      assert.equal(fired[0].slot, Math.floor(now / 1000) * 1000);
      assert.equal(fired[0].catchUp, true);
    } else {
      assert.deepEqual(fired.filter((f) => f.catchUp), []);
    }
  }
});

/** A transport whose first `failures` gets fail, as a broker error would. */
class FlakyGets extends MemoryTransport {
  failures = 2;
  override get(queue: string) {
    if (this.failures-- > 0) {
      return Promise.reject(new BrokerError("injected", { recoverable: true }));
    }
    return super.get(queue);
  }
}

Deno.test("Scheduler: a leader that cannot read its record starts over after a backoff, and fires", async () => {
  using broker = new MemoryBroker();
  const fired: FiredSlot[] = [];
  const flaky = new FlakyGets(broker);
  const scheduler = startScheduler(broker, schedule({ name: "flaky" }), fired, flaky);
  await sleep(1200); // 200 ms, then 400 ms of backoff (half jitter), then it fires every 100 ms
  await scheduler.stop();
  assert.equal(flaky.failures, -1, "it read the record a third time");
  assert.ok(fired.length >= 2, `fired ${fired.length} slots after the failures`);
});

Deno.test("readLastFired: a junk record reads as none and stays for the next reader", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const { firedQueueName, readLastFired } = await import("./fired_slots.ts");
  assert.equal(await readLastFired(transport, "junk"), null, "no record yet");
  for (const body of ["not json", '{"slot": 42}', '{"slot": "yesterday"}', "[]"]) {
    await transport.publish(firedQueueName("junk"), new TextEncoder().encode(body));
    assert.equal(await readLastFired(transport, "junk"), null, body);
  }
  assert.equal((await transport.inspectQueue(firedQueueName("junk")))?.messages, 1);
  await transport.close();
});
