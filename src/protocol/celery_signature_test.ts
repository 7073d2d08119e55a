import assert from "node:assert/strict";
import { readSignatures } from "./celery_signature.ts";

Deno.test("readSignatures reads what a Celery client embeds: task, args, options, immutable, groups", () => {
  const [plain, group] = readSignatures([
    {
      task: "task_b",
      args: [1],
      kwargs: { k: 2 },
      options: { queue: "q", task_id: "id-1", reply_to: "r", priority: 3 },
      subtask_type: null,
      immutable: true,
    },
    {
      task: "celery.group",
      args: [],
      kwargs: { tasks: [{ task: "task_c", options: { routing_key: "rk" } }] },
      options: { task_id: "g-1" },
      subtask_type: "group",
    },
  ], "embed.chain");
  assert.deepEqual(plain, {
    task: "task_b",
    args: [1],
    kwargs: { k: 2 },
    immutable: true,
    queue: "q",
    taskId: "id-1",
    replyTo: "r",
    priority: 3,
    members: null,
    unsupported: null,
  });
  assert.equal(group.taskId, "g-1");
  assert.deepEqual(group.members?.map((m) => [m.task, m.queue]), [["task_c", "rk"]]);
  assert.deepEqual(readSignatures(null, "x"), []);
  assert.equal(readSignatures([{ task: "t", subtask_type: "chord" }], "x")[0].unsupported, "chord");
});

Deno.test("readSignatures refuses hostile shapes, naming where", () => {
  const cases: [unknown, RegExp][] = [
    ["nope", /embed\.chain must be a list/],
    [[42], /embed\.chain\[0\] must be a signature object/],
    [[{ args: [] }], /embed\.chain\[0\]\.task must be a task name/],
    [[{ task: "t", args: "x" }], /\.args must be a list/],
    [Array.from({ length: 1001 }, () => ({ task: "t" })), /1001 signatures \(at most 1000\)/],
  ];
  let deep: unknown = { task: "t" };
  for (let i = 0; i < 20; i++) {
    deep = { task: "g", subtask_type: "group", kwargs: { tasks: [deep] } };
  }
  cases.push([[deep], /nests groups more than 8 deep/]);
  for (const [value, pattern] of cases) {
    assert.throws(() => readSignatures(value, "embed.chain"), pattern);
  }
});
