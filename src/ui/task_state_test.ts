import assert from "node:assert/strict";
import type { CeleryEvent } from "./celery_event.ts";
import { applyTaskEvent, newTaskRow, type TaskRow } from "./task_state.ts";

const fold = (events: Partial<CeleryEvent>[]): TaskRow =>
  events.reduce<TaskRow>(
    (row, e) => applyTaskEvent(row, { type: "task-sent", timestamp: 0, uuid: "t", ...e }),
    newTaskRow("t", 0),
  );

Deno.test("applyTaskEvent() keeps a final state when a late task-started arrives", () => {
  const row = fold([
    { type: "task-received", timestamp: 1, hostname: "w@h" },
    { type: "task-succeeded", timestamp: 3, runtime: 1.5 },
    { type: "task-started", timestamp: 2 },
  ]);
  assert.equal(row.state, "SUCCESS");
  assert.equal(row.runtimeMs, 1500);
});

Deno.test("applyTaskEvent() counts retries and keeps the error of the last failure", () => {
  const row = fold([
    { type: "task-received", timestamp: 1, retries: 0 },
    { type: "task-retried", timestamp: 2, exception: "IOError('a')" },
    { type: "task-received", timestamp: 3, retries: 1 },
    { type: "task-failed", timestamp: 4, exception: "IOError('b')" },
  ]);
  assert.equal(row.state, "FAILURE");
  assert.equal(row.retries, 1);
  assert.equal(row.error, "IOError('b')");
});

Deno.test("applyTaskEvent() starts a replayed task over after its final state", () => {
  const row = fold([
    { type: "task-failed", timestamp: 1, exception: "x" },
    { type: "task-received", timestamp: 10, hostname: "w2@h" },
  ]);
  assert.equal(row.state, "RECEIVED");
  assert.equal(row.finishedMs, null);
  assert.equal(row.worker, "w2@h");
});

Deno.test("applyTaskEvent() does not take a task-sent's hostname (the sender) as the worker", () => {
  const row = fold([{ type: "task-sent", timestamp: 1, hostname: "gen1@h", name: "task_a" }]);
  assert.equal(row.worker, null);
  assert.equal(row.name, "task_a");
  assert.equal(row.state, "PENDING");
});

Deno.test("applyTaskEvent() keeps when the task was first sent, also when task-sent comes late", () => {
  const inOrder = fold([
    { type: "task-sent", timestamp: 1 },
    { type: "task-received", timestamp: 2 },
    { type: "task-succeeded", timestamp: 4, runtime: 1 },
  ]);
  assert.equal(inOrder.sentMs, 1000);
  const late = fold([
    { type: "task-received", timestamp: 2 },
    { type: "task-succeeded", timestamp: 4, runtime: 1 },
    { type: "task-sent", timestamp: 1 },
  ]);
  assert.equal(late.state, "SUCCESS");
  assert.equal(late.sentMs, 1000);
  assert.equal(fold([{ type: "task-received", timestamp: 2 }]).sentMs, null);
});
