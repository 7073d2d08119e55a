import assert from "node:assert/strict";
import { toResultsDocument } from "./results_document.ts";
import type { DispatchRun, TaskOutcome } from "./task_event.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0, 0);

function outcome(overrides: Partial<TaskOutcome> = {}): TaskOutcome {
  return {
    task: "task_a",
    id: "4f09a2b1-0000-4000-8000-000000000001",
    queue: "queue_a",
    status: "SUCCESS",
    result: "Hello from Task A",
    error: null,
    retries: 0,
    runtimeMs: 106,
    worker: "worker-a@host",
    sentAt: T0 + 1,
    doneAt: T0 + 120,
    job: null,
    after: [],
    ...overrides,
  };
}

function run(tasks: TaskOutcome[], overrides: Partial<DispatchRun> = {}): DispatchRun {
  return {
    name: "Basic two-task execution test",
    runId: "20261128_100000-a1b2c3",
    broker: "amqp://guest:***@localhost:5672/",
    startedAt: T0,
    finishedAt: T0 + 340.24,
    expectedWorkers: 2,
    workers: ["worker-a@host", "worker-b@host"],
    tasks,
    interrupted: false,
    ...overrides,
  };
}

Deno.test("toResultsDocument() produces the SPEC shape with keys in order", () => {
  const doc = toResultsDocument(run([
    outcome(),
    outcome({
      task: "task_b",
      id: "b",
      queue: "queue_b",
      result: "Hello from Task B",
      runtimeMs: 201.06,
      worker: "worker-b@host",
    }),
  ]));
  assert.deepEqual(Object.keys(doc), [
    "name",
    "run_id",
    "broker",
    "expected_workers",
    "workers",
    "started_at",
    "finished_at",
    "interrupted",
    "total_ms",
    "sequential_ms",
    "tasks",
    "summary",
  ]);
  assert.deepEqual(Object.keys(doc.tasks[0]), [
    "task",
    "id",
    "queue",
    "status",
    "result",
    "error",
    "retries",
    "runtime_ms",
    "worker",
    "sent_at",
    "done_at",
    "job",
    "after",
  ]);
  assert.deepEqual(Object.keys(doc.summary), [
    "succeeded",
    "failed",
    "interrupted",
    "skipped",
    "retries",
    "avg_ms",
    "min_ms",
    "max_ms",
  ]);
  assert.equal(doc.name, "Basic two-task execution test");
  assert.equal(doc.run_id, "20261128_100000-a1b2c3");
  assert.equal(doc.interrupted, false);
  assert.equal(doc.broker, "amqp://guest:***@localhost:5672/");
  assert.equal(doc.expected_workers, 2);
  assert.deepEqual(doc.workers, ["worker-a@host", "worker-b@host"]);
  assert.equal(doc.started_at, "2026-11-28T10:00:00.000Z");
  assert.equal(doc.finished_at, "2026-11-28T10:00:00.340Z");
  assert.equal(doc.total_ms, 340.2);
  assert.equal(doc.sequential_ms, 307.1);
  assert.deepEqual(doc.tasks[0], {
    task: "task_a",
    id: "4f09a2b1-0000-4000-8000-000000000001",
    queue: "queue_a",
    status: "SUCCESS",
    result: "Hello from Task A",
    error: null,
    retries: 0,
    runtime_ms: 106,
    worker: "worker-a@host",
    sent_at: "2026-11-28T10:00:00.001Z",
    done_at: "2026-11-28T10:00:00.120Z",
    job: null,
    after: [],
  });
  assert.equal(doc.tasks[1].runtime_ms, 201.1);
  assert.deepEqual(doc.summary, {
    succeeded: 2,
    failed: 0,
    interrupted: 0,
    skipped: 0,
    retries: 0,
    avg_ms: 153.5,
    min_ms: 106,
    max_ms: 201.1,
  });
});

Deno.test("toResultsDocument() counts FAILURE and TIMEOUT as failed and sums retries", () => {
  const doc = toResultsDocument(run([
    outcome({ retries: 1 }),
    outcome({
      status: "FAILURE",
      result: null,
      retries: 3,
      runtimeMs: 10,
      error: { type: "Error", message: "boom", stack: "Error: boom\n    at x", module: "builtins" },
    }),
    outcome({
      status: "TIMEOUT",
      result: null,
      runtimeMs: null,
      worker: null,
      doneAt: null,
      error: { type: "TimeoutError", message: "no result within 60000 ms" },
    }),
  ]));
  assert.equal(doc.summary.succeeded, 1);
  assert.equal(doc.summary.failed, 2);
  assert.equal(doc.summary.retries, 4);
  assert.deepEqual(doc.tasks[1].error, { type: "Error", message: "boom" });
  assert.ok(!JSON.stringify(doc).includes("stack"));
  assert.equal(doc.tasks[2].runtime_ms, null);
  assert.equal(doc.tasks[2].done_at, null);
  assert.equal(doc.tasks[2].worker, null);
  assert.equal(doc.sequential_ms, 116);
  assert.equal(doc.summary.avg_ms, 58);
  assert.equal(doc.summary.min_ms, 10);
  assert.equal(doc.summary.max_ms, 106);
});

Deno.test("toResultsDocument() gives null timing stats when no task has a runtime", () => {
  const doc = toResultsDocument(run([
    outcome({ status: "TIMEOUT", runtimeMs: null, doneAt: null, result: null }),
  ]));
  assert.equal(doc.sequential_ms, 0);
  assert.equal(doc.summary.avg_ms, null);
  assert.equal(doc.summary.min_ms, null);
  assert.equal(doc.summary.max_ms, null);
  const empty = toResultsDocument(run([]));
  assert.deepEqual(empty.tasks, []);
  assert.equal(empty.summary.succeeded, 0);
});

Deno.test("toResultsDocument() makes odd results JSON-safe", () => {
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  const doc = toResultsDocument(run([
    outcome({ result: undefined }),
    outcome({ result: loop }),
    outcome({ result: 12n }),
    outcome({ result: { nested: [1, "two", null] } }),
  ]));
  const text = JSON.stringify(doc);
  const back = JSON.parse(text);
  assert.equal(back.tasks[0].result, null);
  assert.equal(back.tasks[1].result, "[object Object]");
  assert.equal(back.tasks[2].result, "12");
  assert.deepEqual(back.tasks[3].result, { nested: [1, "two", null] });
});

Deno.test("toResultsDocument() shows the broker redacted even when handed a raw URL", () => {
  const doc = toResultsDocument(run([], { broker: "amqp://guest:pa ss@word@localhost:5672/" }));
  assert.equal(doc.broker, "amqp://guest:***@localhost:5672/");
});

Deno.test("toResultsDocument() marks an interrupted run and counts INTERRUPTED apart from failed", () => {
  const error = {
    type: "InterruptedError",
    message: "dispatch interrupted by SIGINT before a result arrived",
  };
  const doc = toResultsDocument(run([
    outcome(),
    outcome({ status: "INTERRUPTED", result: null, runtimeMs: null, doneAt: null, error }),
    outcome({ status: "FAILURE", result: null, error: { type: "Error", message: "boom" } }),
  ], { interrupted: true }));
  assert.equal(doc.interrupted, true);
  assert.deepEqual(
    [doc.summary.succeeded, doc.summary.failed, doc.summary.interrupted],
    [1, 1, 1],
  );
  assert.deepEqual(doc.tasks[1].error, error);
  assert.equal(doc.tasks[1].status, "INTERRUPTED");
});
