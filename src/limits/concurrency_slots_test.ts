import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../log/logger.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { ConcurrencySlots } from "./concurrency_slots.ts";
import { slotQueueName } from "./limit_queues.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `workers` workers of one task sharing `max` slots on one broker. */
async function fleet(max: number, workers: number) {
  const broker = new MemoryBroker();
  const members = [];
  for (let i = 0; i < workers; i++) {
    const transport = new MemoryTransport(broker);
    const slots = new ConcurrencySlots({
      transport,
      task: "task_x",
      max,
      logger: silentLogger,
      clock: systemClock,
    });
    await slots.start();
    members.push({ transport, slots });
  }
  return { broker, members };
}

Deno.test("ConcurrencySlots: 3 workers with 8 tasks each never run more than max at once, and all run", async () => {
  const { members } = await fleet(2, 3);
  let running = 0;
  let most = 0;
  let done = 0;
  const signal = new AbortController().signal;
  const run = async (slots: ConcurrencySlots) => {
    const permit = await slots.acquire(signal);
    running++;
    most = Math.max(most, running);
    await sleep(5);
    running--;
    done++;
    await permit.release();
  };
  await Promise.all(members.flatMap(({ slots }) => Array.from({ length: 8 }, () => run(slots))));
  assert.equal(done, 24);
  assert.equal(most, 2);
  for (const { slots, transport } of members) {
    assert.equal(slots.held, 0);
    assert.equal(slots.waiting, 0);
    slots.close();
    await transport.close();
  }
});

Deno.test("ConcurrencySlots: a claim put in twice still lets only one task hold the slot", async () => {
  const { members } = await fleet(1, 2);
  const signal = new AbortController().signal;
  const first = await members[0].slots.acquire(signal);
  // Workers starting while the slot is held put a claim in again: it must not make a second slot.
  for (const { slots } of members) await slots.start();
  const second = members[1].slots.acquire(signal);
  const outcome = await Promise.race([
    second.then(() => "second got one"),
    sleep(300).then(() => "waits"),
  ]);
  assert.equal(outcome, "waits");
  await first.release();
  await (await second).release();
  for (const { slots, transport } of members) {
    slots.close();
    await transport.close();
  }
});

Deno.test("ConcurrencySlots: when a worker holding the slot dies, the next one in line gets it", async () => {
  const { members } = await fleet(1, 2);
  const signal = new AbortController().signal;
  await members[0].slots.acquire(signal);
  const waiting = members[1].slots.acquire(signal);
  await sleep(50);
  assert.equal(members[1].slots.waiting, 1);
  await members[0].transport.close(); // its connection closes: the broker takes the claim back
  const permit = await waiting;
  assert.equal(members[1].slots.held, 1);
  await permit.release();
  members[1].slots.close();
  await members[1].transport.close();
});

Deno.test("ConcurrencySlots: a wait that is aborted rejects, holds nothing, and stops subscribing", async () => {
  const { broker, members } = await fleet(1, 2);
  const held = await members[0].slots.acquire(new AbortController().signal);
  const abort = new AbortController();
  const waiting = members[1].slots.acquire(abort.signal);
  await sleep(30);
  abort.abort(new Error("stop waiting"));
  await assert.rejects(waiting, /stop waiting/);
  await sleep(30);
  assert.equal(members[1].slots.waiting, 0);
  // Only the holder is subscribed now, and an idle worker holds nothing.
  const probe = new MemoryTransport(broker);
  assert.deepEqual(await probe.inspectQueue(slotQueueName("task_x", 0)), {
    messages: 0,
    consumers: 1,
  });
  await held.release();
  await sleep(30);
  assert.deepEqual(await probe.inspectQueue(slotQueueName("task_x", 0)), {
    messages: 1,
    consumers: 0,
  });
  await probe.close();
  for (const { slots, transport } of members) {
    slots.close();
    await transport.close();
  }
});

Deno.test("ConcurrencySlots: a slot queue deleted under a waiting task is declared again, with its claim, and the task gets it", async () => {
  const { broker, members } = await fleet(1, 1);
  const admin = new MemoryTransport(broker);
  const held = await members[0].slots.acquire(new AbortController().signal);
  const waiting = members[0].slots.acquire(new AbortController().signal);
  await sleep(20);
  await admin.deleteQueue(slotQueueName("task_x", 0)); // an operator's mistake: claim and all gone
  const permit = await Promise.race([waiting, sleep(3000).then(() => null)]);
  assert.ok(permit, "the waiting task got the slot once it was declared again");
  await held.release(); // the deleted queue's claim: nothing to give back
  await permit.release();
  assert.deepEqual(await admin.inspectQueue(slotQueueName("task_x", 0)), {
    messages: 1,
    consumers: 0,
  });
  members[0].slots.close();
  await members[0].transport.close();
  await admin.close();
});
