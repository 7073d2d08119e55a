import assert from "node:assert/strict";
import { OutcomeCollector } from "./collect_outcomes.ts";

const base = { task: "task_a", queue: "queue_a" };

Deno.test("OutcomeCollector folds events into one outcome per task in send order", () => {
  const collector = new OutcomeCollector();
  collector.add({ ...base, id: "1", type: "SENT", at: 10 });
  collector.add({ ...base, id: "2", type: "SENT", at: 11 });
  collector.add({ ...base, id: "2", type: "STARTED", at: 12, worker: "w@h" });
  collector.add({ ...base, id: "2", type: "RETRY", at: 13, retries: 1, delayMs: 5, error: null });
  collector.add({
    ...base,
    id: "2",
    type: "SUCCESS",
    at: 20,
    result: "ok",
    runtimeMs: 3,
    worker: null,
    retries: 1,
  });
  collector.add({
    ...base,
    id: "1",
    type: "TIMEOUT",
    at: 30,
    error: { type: "TimeoutError", message: "late" },
    retries: 0,
  });
  const [first, second] = collector.outcomes();
  assert.equal(first.id, "1");
  assert.equal(first.status, "TIMEOUT");
  assert.equal(first.doneAt, null);
  assert.deepEqual(
    { ...second },
    {
      task: "task_a",
      id: "2",
      queue: "queue_a",
      status: "SUCCESS",
      result: "ok",
      error: null,
      retries: 1,
      runtimeMs: 3,
      worker: "w@h",
      sentAt: 11,
      doneAt: 20,
      job: null,
      after: [],
    },
  );
});

Deno.test("OutcomeCollector ignores events for tasks it never saw sent", () => {
  const collector = new OutcomeCollector();
  collector.add({ ...base, id: "x", type: "STARTED", at: 1, worker: "w" });
  assert.deepEqual(collector.outcomes(), []);
});

Deno.test("OutcomeCollector records an INTERRUPTED task with its error and no done time", () => {
  const collector = new OutcomeCollector();
  collector.add({ ...base, id: "1", type: "SENT", at: 10 });
  collector.add({ ...base, id: "1", type: "STARTED", at: 11, worker: "w@h" });
  const error = { type: "InterruptedError", message: "dispatch interrupted by SIGINT" };
  collector.add({ ...base, id: "1", type: "INTERRUPTED", at: 12, error, retries: 0 });
  const [only] = collector.outcomes();
  assert.deepEqual(
    [only.status, only.error, only.doneAt, only.worker],
    ["INTERRUPTED", error, null, "w@h"],
  );
});
