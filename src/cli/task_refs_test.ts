import assert from "node:assert/strict";
import { loadConfigDocument } from "../config/load.ts";
import { loadPlugins } from "../plugin/load_plugins.ts";
import { unknownTaskIssues } from "./task_refs.ts";

const TEXT = [
  "name: refs", // 1
  "tasks:", // 2
  "  add: { name: proj.tasks.add, queue: celery }", // 3
  "dispatch:", // 4
  "  jobs:", // 5
  "    - task: a", // 6
  "    - task: zzz", // 7
  "    - task: add", // 8
  "load: { task: nope, count: 1 }", // 9
  "scaling:", // 10
  "  add: { max: 2 }", // 11
  "  b: { max: 2 }", // 12
  "schedules:", // 13
  "  tick: { task: b, every: 1m }", // 14
  "  tock: { task: nada, every: 1m }", // 15
].join("\n");

async function doc() {
  return await loadConfigDocument({ path: "refs.yml", readTextFile: () => Promise.resolve(TEXT) });
}

Deno.test("unknownTaskIssues() names each unknown task with its path, line and the known ones", async () => {
  const issues = unknownTaskIssues(await doc(), await loadPlugins());
  assert.deepEqual(issues, [
    {
      path: "dispatch.jobs[1].task",
      message:
        'names "zzz", which neither a config tasks entry nor a plugin defines; known: add, task_a, task_b',
      line: 7,
    },
    {
      path: "load.task",
      message:
        'names "nope", which neither a config tasks entry nor a plugin defines; known: add, task_a, task_b',
      line: 9,
    },
    {
      path: "scaling.add",
      message:
        'names "add" (proj.tasks.add), which no plugin defines; dts scale starts dts workers, which need one; plugins: task_a, task_b',
      line: 11,
    },
    {
      path: "schedules.tock.task",
      message:
        'names "nada", which neither a config tasks entry nor a plugin defines; known: add, task_a, task_b',
      line: 15,
    },
  ]);
});

Deno.test("unknownTaskIssues() checks only the sections asked for", async () => {
  const issues = unknownTaskIssues(await doc(), await loadPlugins(), ["jobs"]);
  assert.deepEqual(issues.map((i) => i.path), ["dispatch.jobs[1].task"]);
});
