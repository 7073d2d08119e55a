import assert from "node:assert/strict";
import { createTaskMessage, encodeTaskMessage } from "../protocol/celery_task_message.ts";
import { summarizeDeadLetter } from "./dead_letter_summary.ts";

Deno.test("summarizeDeadLetter() carries the task's args and kwargs from its body", () => {
  const { body, props } = encodeTaskMessage(
    createTaskMessage("task_a", { args: [1, "two"], kwargs: { three: 3 } }),
  );
  const summary = summarizeDeadLetter(
    { ...props, headers: { ...props.headers, "x-dts-reason": "boom" } },
    body,
  );
  assert.deepEqual([summary.task, summary.reason], ["task_a", "boom"]);
  assert.deepEqual(summary.args, [1, "two"]);
  assert.deepEqual(summary.kwargs, { three: 3 });
  assert.equal(summary.bytes, body.byteLength);
});

Deno.test("summarizeDeadLetter() gives null args for a body that is not a task message", () => {
  const summary = summarizeDeadLetter(
    { headers: {}, contentType: "application/json", contentEncoding: "utf-8" },
    new TextEncoder().encode("not json"),
  );
  assert.equal(summary.args, null);
  assert.equal(summary.kwargs, null);
});
