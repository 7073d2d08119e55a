import assert from "node:assert/strict";
import { formatPath } from "./issue_messages.ts";

Deno.test("formatPath() joins keys with dots and indexes with brackets", () => {
  assert.equal(formatPath([]), "");
  assert.equal(formatPath(["tasks", "a", "retry", "factor"]), "tasks.a.retry.factor");
  assert.equal(formatPath(["dispatch", "jobs", 0, "task"]), "dispatch.jobs[0].task");
});

Deno.test("formatPath() quotes keys that are not plain words", () => {
  assert.equal(formatPath(["tasks", "b c"]), 'tasks."b c"');
  assert.equal(formatPath(["a.b"]), '"a.b"');
});
