import assert from "node:assert/strict";
import { createTaskMessage, type TaskMessage } from "../protocol/celery_task_message.ts";
import { afterFailure, afterSuccess, canvasProblem } from "./canvas_continuation.ts";

/** A signature dict the way a Celery 5.2 client puts it in `embed`. */
function sig(task: string, options: Record<string, unknown> = {}, extra = {}) {
  return {
    task,
    args: [10],
    kwargs: {},
    options: { task_id: `${task}-id`, reply_to: "client.reply", queue: `q_${task}`, ...options },
    subtask_type: null,
    immutable: false,
    ...extra,
  };
}

function message(embed: Partial<TaskMessage["embed"]>): TaskMessage {
  const m = createTaskMessage("task_a", {
    id: "parent-id",
    args: [1],
    kwargs: {},
    replyTo: "client.reply",
    rootId: "root-id",
  });
  m.embed = { callbacks: null, errbacks: null, chain: null, chord: null, ...embed };
  return m;
}

Deno.test("canvasProblem() refuses a chord, saying it needs a result backend", () => {
  const problem = canvasProblem(message({ chord: sig("task_body") }));
  assert.match(problem ?? "", /a chord needs a result backend/);
  assert.match(problem ?? "", /rpc:\/\//);
});

Deno.test("canvasProblem() refuses a chain going on after a group, and nested groups", () => {
  const group = sig("celery.group", {}, {
    subtask_type: "group",
    kwargs: { tasks: [sig("task_b"), sig("task_c")] },
  });
  // Celery keeps the chain reversed: the last element runs next.
  assert.match(
    canvasProblem(message({ chain: [sig("task_d"), group] })) ?? "",
    /a chain that goes on after a group/,
  );
  // A chain that ends in a group is fine: nothing waits for the group.
  assert.equal(canvasProblem(message({ chain: [group] })), null);
  const nested = sig("celery.group", {}, { subtask_type: "group", kwargs: { tasks: [group] } });
  assert.equal(canvasProblem(message({ callbacks: [nested] })), "a group inside a group");
  assert.equal(
    canvasProblem(message({ callbacks: [sig("x", {}, { subtask_type: "chord" })] })),
    "a chord signature in a link or chain",
  );
});

Deno.test("canvasProblem() names a malformed embed instead of throwing", () => {
  assert.match(
    canvasProblem(message({ callbacks: "nope" })) ?? "",
    /embed\.callbacks must be a list/,
  );
  assert.match(canvasProblem(message({ chain: [{ args: [] }] })) ?? "", /task must be a task name/);
  assert.match(
    canvasProblem(message({ chain: Array(1001).fill(sig("t")) })) ?? "",
    /1001 signatures \(at most 1000\)/,
  );
  assert.equal(canvasProblem(message({ callbacks: [] })), null);
});

Deno.test("afterSuccess() sends the links and the next chain step with the result first", () => {
  const m = message({
    callbacks: [sig("task_link"), sig("task_fixed", {}, { immutable: true })],
    chain: [sig("task_last"), sig("task_next")],
  });
  const sends = afterSuccess(m, 42);
  assert.deepEqual(sends.map((s) => [s.queue, s.message.task, s.message.args]), [
    ["q_task_link", "task_link", [42, 10]],
    ["q_task_fixed", "task_fixed", [10]],
    ["q_task_next", "task_next", [42, 10]],
  ]);
  const next = sends[2].message;
  assert.deepEqual([next.id, next.rootId, next.parentId, next.replyTo], [
    "task_next-id",
    "root-id",
    "parent-id",
    "client.reply",
  ]);
  // The rest of the chain travels with the next step.
  assert.deepEqual((next.embed.chain as { task: string }[]).map((s) => s.task), ["task_last"]);
  assert.equal(sends[0].message.embed.chain, null);
});

Deno.test("afterSuccess() expands a group into its members, sharing one group id", () => {
  const group = sig("celery.group", { task_id: "group-id" }, {
    subtask_type: "group",
    kwargs: { tasks: [sig("task_b"), sig("task_c")] },
  });
  const sends = afterSuccess(message({ chain: [group] }), "r");
  assert.deepEqual(sends.map((s) => [s.message.task, s.message.group, s.message.args]), [
    ["task_b", "group-id", ["r", 10]],
    ["task_c", "group-id", ["r", 10]],
  ]);
});

Deno.test("afterFailure() sends the errbacks with the failed id and owes every chain id a FAILURE", () => {
  const group = sig("celery.group", {}, {
    subtask_type: "group",
    kwargs: { tasks: [sig("task_b"), sig("task_c", { reply_to: "other.reply" })] },
  });
  const { errbacks, owed } = afterFailure(message({
    errbacks: [sig("task_on_error")],
    chain: [sig("task_last"), group],
  }));
  assert.deepEqual(errbacks.map((s) => [s.message.task, s.message.args]), [
    ["task_on_error", ["parent-id", 10]],
  ]);
  assert.deepEqual(owed, [
    { taskId: "task_last-id", replyTo: "client.reply" },
    { taskId: "task_b-id", replyTo: "client.reply" },
    { taskId: "task_c-id", replyTo: "other.reply" },
  ]);
});
