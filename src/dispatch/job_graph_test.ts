import assert from "node:assert/strict";
import { graphJobs, type GraphTask, JobGraph } from "./job_graph.ts";

function task(id: string, job: string, extra: Partial<GraphTask> = {}): GraphTask {
  return { id, job, task: `task_${job}`, queue: "q", args: ["own"], kwargs: {}, ...extra };
}

/** build → test ×3 (args_from build) → report (args_from test). */
function pipeline(onFailure: "skip" | "continue" = "skip"): GraphTask[] {
  return [
    task("b1", "build"),
    ...["t1", "t2", "t3"].map((id) =>
      task(id, "test", { after: ["build"], argsFrom: "build", onFailure })
    ),
    task("r1", "report", { after: ["test"], argsFrom: "test", onFailure }),
  ];
}

Deno.test("JobGraph sends a job once its dependency ended, with that result first in its args", () => {
  const graph = new JobGraph(pipeline());
  assert.ok(graph.ordered);
  assert.deepEqual(graph.initial().map((t) => t.id), ["b1"]);
  assert.ok(graph.isHeld("t1") && graph.isHeld("r1") && !graph.isHeld("b1"));
  const afterBuild = graph.settle("b1", "SUCCESS", { artifact: 7 });
  assert.deepEqual(afterBuild.send.map((t) => [t.id, t.args]), [
    ["t1", [{ artifact: 7 }, "own"]],
    ["t2", [{ artifact: 7 }, "own"]],
    ["t3", [{ artifact: 7 }, "own"]],
  ]);
  assert.deepEqual(afterBuild.skip, []);
  // The fan-in waits for all three, and gets their results in send order.
  assert.deepEqual(graph.settle("t2", "SUCCESS", "two").send, []);
  assert.deepEqual(graph.settle("t1", "SUCCESS", "one").send, []);
  const afterTests = graph.settle("t3", "SUCCESS", "three");
  assert.deepEqual(afterTests.send.map((t) => [t.id, t.args]), [["r1", [
    ["one", "two", "three"],
    "own",
  ]]]);
});

Deno.test("JobGraph skips the dependents of a job that did not fully succeed, saying why", () => {
  const graph = new JobGraph(pipeline());
  const step = graph.settle("b1", "FAILURE", null);
  assert.deepEqual(step.send, []);
  assert.deepEqual(step.skip.map((s) => s.task.id), ["t1", "t2", "t3"]);
  assert.match(step.skip[0].reason, /"build" did not succeed \(1 FAILURE of 1\)/);
  // Skipping cascades as the skipped tasks are settled in turn.
  assert.deepEqual(graph.settle("t1", "SKIPPED", null).skip, []);
  assert.deepEqual(graph.settle("t2", "SKIPPED", null).skip, []);
  const last = graph.settle("t3", "SKIPPED", null);
  assert.deepEqual(last.skip.map((s) => s.task.id), ["r1"]);
  assert.match(last.skip[0].reason, /"test" did not succeed \(3 SKIPPED of 3\)/);
});

Deno.test("JobGraph with on_failure: continue sends anyway, with null for failed results", () => {
  const graph = new JobGraph(pipeline("continue"));
  assert.equal(graph.settle("b1", "SUCCESS", "bin").send.length, 3);
  graph.settle("t1", "SUCCESS", "one");
  graph.settle("t2", "TIMEOUT", null);
  const step = graph.settle("t3", "FAILURE", "ignored");
  assert.deepEqual(step.skip, []);
  assert.deepEqual(step.send.map((t) => t.args), [[["one", null, null], "own"]]);
});

Deno.test("JobGraph counts each task once and never sends a task that already ended", () => {
  const graph = new JobGraph(pipeline());
  assert.equal(graph.settle("b1", "SUCCESS", 1).send.length, 3);
  assert.deepEqual(graph.settle("b1", "SUCCESS", 1), { send: [], skip: [] });
  // Revoked while it waited: when its dependency ends, it is not sent.
  const other = new JobGraph(pipeline());
  other.settle("t2", "REVOKED", null);
  assert.deepEqual(other.settle("b1", "SUCCESS", 1).send.map((t) => t.id), ["t1", "t3"]);
});

Deno.test("JobGraph without after sends everything at once", () => {
  const graph = new JobGraph([task("x", "a"), { ...task("y", "b"), job: undefined }]);
  assert.equal(graph.ordered, false);
  assert.deepEqual(graph.initial().map((t) => t.id), ["x", "y"]);
  assert.deepEqual(graphJobs([task("x", "a")]), []);
});

Deno.test("graphJobs() lists each job once with its count, for the live view", () => {
  assert.deepEqual(graphJobs(pipeline()), [
    { id: "build", task: "task_build", count: 1, after: [] },
    { id: "test", task: "task_test", count: 3, after: ["build"] },
    { id: "report", task: "task_report", count: 1, after: ["test"] },
  ]);
});
