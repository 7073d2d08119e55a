import assert from "node:assert/strict";
import { JsonReporter } from "./json_reporter.ts";
import { toResultsDocument } from "./results_document.ts";
import type { DispatchRun } from "./task_event.ts";

const RUN: DispatchRun = {
  name: "Basic two-task execution test",
  runId: "20261128_100000-a1b2c3",
  interrupted: false,
  broker: "amqp://guest:***@localhost:5672/",
  startedAt: 1_000,
  finishedAt: 1_340,
  expectedWorkers: 1,
  workers: ["worker-a@host"],
  tasks: [{
    task: "task_a",
    id: "4f09",
    queue: "queue_a",
    status: "SUCCESS",
    result: "Hello from Task A",
    error: null,
    retries: 0,
    runtimeMs: 106,
    worker: "worker-a@host",
    sentAt: 1_001,
    doneAt: 1_120,
    job: null,
    after: [],
  }],
};

Deno.test("JsonReporter.finish() writes the results document once, as pretty JSON", async () => {
  const out: string[] = [];
  const reporter = new JsonReporter({ write: (text) => void out.push(text) });
  reporter.begin({
    name: RUN.name,
    runId: RUN.runId,
    journal: null,
    broker: RUN.broker,
    expectedWorkers: 1,
    workers: RUN.workers,
    taskCount: 1,
    startedAt: 1_000,
  });
  reporter.report({ type: "SENT", id: "4f09", task: "task_a", queue: "queue_a", at: 1_001 });
  assert.equal(out.length, 0);
  await reporter.finish(RUN);
  assert.equal(out.length, 1);
  assert.equal(out[0], JSON.stringify(toResultsDocument(RUN), null, 2) + "\n");
  assert.equal(JSON.parse(out[0]).tasks[0].result, "Hello from Task A");
});

Deno.test("JsonReporter.finish() waits for an asynchronous write", async () => {
  let written = "";
  const reporter = new JsonReporter({
    write: async (text) => {
      await Promise.resolve();
      written = text;
    },
  });
  await reporter.finish(RUN);
  assert.equal(JSON.parse(written).summary.succeeded, 1);
});

Deno.test("JsonReporter.finish() copes with a circular result", async () => {
  const loop: Record<string, unknown> = {};
  loop.self = loop;
  let written = "";
  const reporter = new JsonReporter({ write: (text) => void (written = text) });
  await reporter.finish({ ...RUN, tasks: [{ ...RUN.tasks[0], result: loop }] });
  assert.equal(JSON.parse(written).tasks[0].result, "[object Object]");
});
