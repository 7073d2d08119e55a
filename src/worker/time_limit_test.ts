import assert from "node:assert/strict";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { withTimeLimit } from "./time_limit.ts";

const task: TaskDefinition = {
  name: "t",
  queue: "q",
  retry: DEFAULT_RETRY_SETTINGS,
  timeoutMs: 30_000,
  run: () => null,
  source: "test",
};

Deno.test("withTimeLimit() keeps the task's timeout without a Celery timelimit", () => {
  assert.equal(withTimeLimit(task, [null, null]), task);
});

Deno.test("withTimeLimit() takes the earliest of timeout, hard and soft limits", () => {
  assert.equal(withTimeLimit(task, [10, null]).timeoutMs, 10_000);
  assert.equal(withTimeLimit(task, [10, 2.5]).timeoutMs, 2_500);
  assert.equal(withTimeLimit(task, [60, null]).timeoutMs, 30_000);
  assert.equal(withTimeLimit({ ...task, timeoutMs: null }, [60, null]).timeoutMs, 60_000);
});
