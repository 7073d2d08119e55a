import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import type { TaskEvent } from "../report/task_event.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { Transport } from "../transport/transport.ts";
import type { Journal } from "./journal_reader.ts";
import type { JournalEntry, JournalHeader } from "./journal_record.ts";
import { checkResumable, formatDuration, planResume } from "./resume_plan.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);

const HEADER: JournalHeader = {
  kind: "run",
  version: 1,
  run_id: "20261128_100000-4f09a2",
  name: "resume test",
  broker: "amqp://guest:***@localhost:5672/",
  config: null,
  started_at: new Date(T0).toISOString(),
  timeout_ms: 60_000,
  reply_queue: "dts.reply.20261128_100000-4f09a2",
  reply_queue_expires_ms: 3_660_000,
  expected_workers: null,
  workers: [],
  jobs: ["a", "b", "c", "d"].map((id) => ({ id, task: `task_${id}`, queue: `queue_${id}` })),
};

function ev(event: Partial<TaskEvent> & Pick<TaskEvent, "type" | "id" | "at">): JournalEntry {
  return {
    kind: "event",
    event: { task: `task_${event.id}`, queue: `queue_${event.id}`, ...event } as TaskEvent,
  };
}

function journal(entries: JournalEntry[], header: Partial<JournalHeader> = {}): Journal {
  return {
    path: "results/dispatch_20261128_100000-4f09a2.jsonl",
    header: { ...HEADER, ...header },
    entries,
    validBytes: 0,
    tornTail: false,
  };
}

const ENTRIES: JournalEntry[] = [
  ev({ type: "SENT", id: "a", at: T0 + 1 }),
  ev({ type: "SENT", id: "b", at: T0 + 2 }),
  ev({ type: "SENT", id: "c", at: T0 + 3 }),
  // d's SENT line never made it: the dispatcher died while sending.
  ev({ type: "RETRY", id: "b", at: T0 + 5, retries: 1, delayMs: 10, error: null }),
  ev({
    type: "SUCCESS",
    id: "a",
    at: T0 + 10,
    result: "done",
    runtimeMs: 2,
    worker: "w",
    retries: 0,
  }),
  ev({
    type: "INTERRUPTED",
    id: "c",
    at: T0 + 20,
    error: { type: "InterruptedError", message: "x" },
    retries: 0,
  }),
  { kind: "interrupted", at: T0 + 20, signal: "SIGINT" },
];

Deno.test("planResume() replays SENT in send order, then history without the outcomes it waits for again", () => {
  const plan = planResume(journal(ENTRIES), { now: T0 + 1000 });
  assert.deepEqual(plan.history.map((e) => `${e.type} ${e.id}`), [
    "SENT a",
    "SENT b",
    "SENT c",
    "SENT d",
    "RETRY b",
    "SUCCESS a",
  ]);
  assert.equal(plan.history[3].at, T0, "an unjournaled send counts from the run's start");
  assert.deepEqual(plan.missing.map((t) => [t.id, t.retries, t.deadline, t.timeoutMs]), [
    ["b", 1, T0 + 2 + 60_000, 60_000],
    ["c", 0, T0 + 3 + 60_000, 60_000],
    ["d", 0, T0 + 60_000, 60_000],
  ]);
  assert.equal(plan.lastWriteAt, T0 + 20);
});

Deno.test("planResume() with a timeout gives every missing task that long from now", () => {
  const plan = planResume(journal(ENTRIES), { now: T0 + 5000, timeoutMs: 30_000 });
  assert.deepEqual(plan.missing.map((t) => [t.id, t.deadline, t.timeoutMs]), [
    ["b", T0 + 35_000, 30_000],
    ["c", T0 + 35_000, 30_000],
    ["d", T0 + 35_000, 30_000],
  ]);
});

Deno.test("planResume() refuses a run that finished", () => {
  const finished: JournalEntry = {
    kind: "finished",
    at: T0 + 99,
    results_file: "results/dispatch_results_20261128_100000.json",
  };
  assert.throws(
    () => planResume(journal([...ENTRIES, finished]), { now: T0 }),
    (e) =>
      e instanceof UsageError &&
      e.message ===
        `Cannot resume run "20261128_100000-4f09a2": it finished at 2026-11-28T10:00:00.099Z; its results are in "results/dispatch_results_20261128_100000.json"`,
  );
});

async function withTransport(test: (transport: Transport) => Promise<void>): Promise<void> {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  try {
    await test(transport);
  } finally {
    await transport.close();
  }
}

Deno.test("checkResumable() refuses another broker, naming both without passwords", async () => {
  await withTransport(async (transport) => {
    const plan = planResume(journal(ENTRIES), { now: T0 });
    await assert.rejects(
      () => checkResumable(plan, transport, { now: T0 }),
      (e) =>
        e instanceof UsageError &&
        e.message.includes(`it ran on broker "amqp://guest:***@localhost:5672/", not "memory://"`),
    );
  });
});

Deno.test("checkResumable() says when a gone reply queue expired, and that the missing results are lost", async () => {
  await withTransport(async (transport) => {
    const plan = planResume(journal(ENTRIES, { broker: "memory://" }), { now: T0 });
    const late = T0 + 20 + 3_660_000 + 1;
    await assert.rejects(
      () => checkResumable(plan, transport, { now: late }),
      (e) =>
        e instanceof UsageError &&
        e.message ===
          `Cannot resume run "20261128_100000-4f09a2": its reply queue "dts.reply.20261128_100000-4f09a2" no longer exists: it expired (the broker deletes it 1 h 1 min after the dispatcher stops; the dispatcher last wrote its journal at 2026-11-28T10:00:00.020Z, so it was gone by 2026-11-28T11:01:00.020Z at the latest); the results of the 3 of 4 tasks not in the journal are lost`,
    );
    await assert.rejects(
      () => checkResumable(plan, transport, { now: T0 + 60_000 }),
      /it was deleted \(it would not have expired before 2026-11-28T11:01:00\.020Z\)/,
    );
  });
});

Deno.test("checkResumable() refuses while the run's reply queue has a consumer", async () => {
  await withTransport(async (transport) => {
    const plan = planResume(journal(ENTRIES, { broker: "memory://" }), { now: T0 });
    await transport.assertQueue(HEADER.reply_queue);
    await checkResumable(plan, transport, { now: T0 });
    const stop = new AbortController();
    const consumer = (async () => {
      for await (
        const _ of transport.consume(HEADER.reply_queue, { prefetch: 1, signal: stop.signal })
      ) {
        // nothing arrives
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(
      () => checkResumable(plan, transport, { now: T0 }),
      /has a consumer: the dispatcher, or another resume, is still running/,
    );
    stop.abort();
    await consumer;
  });
});

Deno.test("checkResumable() needs no reply queue when the journal has every result", async () => {
  await withTransport(async (transport) => {
    const all: JournalEntry[] = HEADER.jobs.map((job) =>
      ev({
        type: "FAILURE",
        id: job.id,
        at: T0,
        error: null,
        runtimeMs: null,
        worker: null,
        retries: 0,
      })
    );
    const plan = planResume(journal(all, { broker: "memory://" }), { now: T0 });
    assert.equal(plan.missing.length, 0);
    await checkResumable(plan, transport, { now: T0 });
  });
});

Deno.test("formatDuration() reads like a person would say it", () => {
  assert.equal(formatDuration(30_000), "30 s");
  assert.equal(formatDuration(300_000), "5 min");
  assert.equal(formatDuration(3_600_000), "1 h");
  assert.equal(formatDuration(3_660_000), "1 h 1 min");
});

Deno.test("planResume() ends a task still WAITING for its jobs SKIPPED: a resume sends nothing", () => {
  const plan = planResume(
    journal([
      ev({ type: "SENT", id: "a", at: T0 + 1, job: "build" }),
      ev({ type: "WAITING", id: "b", at: T0 + 2, job: "test", after: ["build"] }),
      ev({ type: "WAITING", id: "c", at: T0 + 2, job: "test", after: ["build"] }),
      // c was sent once build ended; b was still waiting when the dispatcher died.
      ev({ type: "SENT", id: "c", at: T0 + 5, job: "test", after: ["build"] }),
      ev({ type: "SKIPPED", id: "d", at: T0 + 6, error: null, retries: 0 }),
    ]),
    { now: T0 + 100 },
  );
  assert.deepEqual(plan.missing.map((t) => t.id), ["a", "c"]);
  assert.deepEqual(plan.history.slice(0, 4).map((e) => `${e.id}:${e.type}`), [
    "a:SENT",
    "b:WAITING",
    "c:SENT",
    "d:SENT",
  ]);
  const skipped = plan.history.find((e) => e.id === "b" && e.type === "SKIPPED");
  assert.ok(skipped?.type === "SKIPPED");
  assert.match(skipped.error?.message ?? "", /a resume does not send tasks/);
  // d ended SKIPPED in the run itself: kept, not waited for.
  assert.ok(plan.history.some((e) => e.id === "d" && e.type === "SKIPPED"));
});
