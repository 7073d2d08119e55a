import assert from "node:assert/strict";
import type { CeleryEvent } from "./celery_event.ts";
import { EventStore } from "./event_store.ts";
import { openDatabase } from "./node_sqlite.ts";

const T0 = 1_800_000_000; // Unix seconds
const ev = (type: string, at: number, fields: Partial<CeleryEvent> = {}): CeleryEvent => ({
  type,
  timestamp: T0 + at,
  hostname: "worker-a.1@host",
  ...fields,
});

Deno.test("EventStore.record() folds task events into one row per task", () => {
  using store = new EventStore(":memory:");
  const changed = store.record([
    ev("task-received", 0, { uuid: "t1", name: "task_a" }),
    ev("task-started", 0.1, { uuid: "t1" }),
    ev("task-succeeded", 0.6, { uuid: "t1", runtime: 0.5 }),
  ]);
  assert.equal(changed.tasks.length, 1);
  const row = store.task("t1")!;
  assert.equal(row.state, "SUCCESS");
  assert.equal(row.name, "task_a");
  assert.equal(row.worker, "worker-a.1@host");
  assert.equal(row.runtimeMs, 500);
  assert.equal(store.eventCount(), 3);
});

Deno.test("EventStore.tasks() searches ids and names, case-insensitively, newest first", () => {
  using store = new EventStore(":memory:");
  store.record([
    ev("task-received", 0, { uuid: "aaa-111", name: "task_a" }),
    ev("task-received", 1, { uuid: "bbb-222", name: "task_b" }),
    ev("task-received", 2, { uuid: "ccc-333", name: "task_a" }),
  ]);
  assert.deepEqual(store.tasks({ text: "TASK_A" }).map((t) => t.id), ["ccc-333", "aaa-111"]);
  assert.deepEqual(store.tasks({ text: "222" }).map((t) => t.id), ["bbb-222"]);
  assert.equal(store.tasks().length, 3);
});

Deno.test("EventStore keeps tasks and workers across a reopen of its file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    {
      using store = new EventStore(`${dir}/ui.sqlite`);
      store.record([
        ev("worker-online", 0, { freq: 2 }),
        ev("task-received", 0, { uuid: "kept", name: "task_a" }),
        ev("task-failed", 1, { uuid: "kept", exception: "ValueError('x')" }),
      ]);
    }
    using reopened = new EventStore(`${dir}/ui.sqlite`);
    assert.equal(reopened.task("kept")?.state, "FAILURE");
    assert.equal(reopened.task("kept")?.error, "ValueError('x')");
    assert.deepEqual(reopened.workers().map((w) => w.name), ["worker-a.1@host"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("EventStore.prune() drops events, tasks and workers older than the cut, keeps the rest", () => {
  using store = new EventStore(":memory:");
  store.record([
    ev("task-received", 0, { uuid: "old", name: "task_a" }),
    ev("worker-heartbeat", 0, { hostname: "gone@host", freq: 2 }),
    ev("task-received", 100, { uuid: "new", name: "task_a" }),
    ev("worker-heartbeat", 100, { freq: 2 }),
  ]);
  const dropped = store.prune((T0 + 50) * 1000);
  assert.equal(dropped, 2);
  assert.equal(store.task("old"), null);
  assert.equal(store.task("new")?.state, "RECEIVED");
  assert.deepEqual(store.workers().map((w) => w.name), ["worker-a.1@host"]);
  assert.equal(store.eventCount(), 2);
});

Deno.test("EventStore.finishedSince() returns finished tasks oldest first", () => {
  using store = new EventStore(":memory:");
  store.record([
    ev("task-succeeded", 5, { uuid: "b", runtime: 0.2 }),
    ev("task-succeeded", 1, { uuid: "a", runtime: 0.1 }),
    ev("task-started", 6, { uuid: "c" }),
  ]);
  const rows = store.finishedSince(T0 * 1000);
  assert.deepEqual(rows.map((r) => r.runtimeMs), [100, 200]);
});

Deno.test("EventStore keeps a task's send time, and adds its column to a history file from before it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/old.sqlite`;
    // A tasks table as the first dts ui wrote it: no sent_ms.
    const old = openDatabase(path);
    old.exec(`CREATE TABLE tasks (id TEXT PRIMARY KEY, name TEXT, state TEXT NOT NULL, worker TEXT,
      retries INTEGER NOT NULL, received_ms INTEGER, started_ms INTEGER, finished_ms INTEGER,
      runtime_ms REAL, error TEXT, updated_ms INTEGER NOT NULL)`);
    old.exec(`INSERT INTO tasks VALUES ('old', 'task_a', 'SUCCESS', NULL, 0, 1, 2, 3, 1, NULL, 3)`);
    old.close();
    using store = new EventStore(path);
    assert.equal(store.task("old")?.sentMs, null);
    store.record([
      ev("task-sent", 0, { uuid: "t1", name: "task_a", hostname: "gen1@host" }),
      ev("task-received", 0.2, { uuid: "t1" }),
      ev("task-succeeded", 0.7, { uuid: "t1", runtime: 0.4 }),
    ]);
    assert.equal(store.task("t1")?.sentMs, T0 * 1000);
    const finished = store.finishedSince(0).find((row) => row.sentMs !== null);
    assert.deepEqual(finished, {
      finishedMs: T0 * 1000 + 700,
      sentMs: T0 * 1000,
      runtimeMs: 400,
      state: "SUCCESS",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
