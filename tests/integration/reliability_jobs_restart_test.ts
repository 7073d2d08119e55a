/**
 * A dispatch with dependent jobs through a broker SIGKILL (a private node):
 * the kill lands while the tests of build → tests ×20 → report run and the
 * report is held; after the restart every task completes once, the report
 * is sent once, after all tests, with their twenty results.
 */
import assert from "node:assert/strict";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import type { DispatchJob } from "../../src/dispatch/dispatcher.ts";
import { testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { fastReconnect, waitUntil } from "../helpers/test_kit.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";

Deno.test("dependent jobs through a broker SIGKILL: each task completes once, the held report after all tests", async () => {
  await using broker = await startSecondBroker();
  const ns = testNamespace();
  const q = ns.queue("jobs");
  await using workerTransport = await AmqpTransport.connect(broker.url);
  await using dispatchTransport = await fastReconnect(broker.url);
  let reportRuns = 0;
  const build = testTask("task_build", q, () => "artifact");
  const check = testTask("task_check", q, async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return `${ctx.args[0]}:${ctx.args[1]}`;
  });
  const report = testTask("task_report", q, (ctx) => {
    reportRuns++;
    return (ctx.args[0] as unknown[]).length;
  });
  await using _worker = await startWorker(workerTransport, [build, check, report], {
    concurrency: 4,
  });
  const jobs: DispatchJob[] = [
    { task: build.name, queue: q, args: [], kwargs: {}, job: "build" },
    ...Array.from({ length: 20 }, (_, i): DispatchJob => ({
      task: check.name,
      queue: q,
      args: [i],
      kwargs: {},
      job: "test",
      after: ["build"],
      argsFrom: "build",
    })),
    {
      task: report.name,
      queue: q,
      args: [],
      kwargs: {},
      job: "report",
      after: ["test"],
      argsFrom: "test",
    },
  ];
  let testsDone = 0;
  const dispatching = runDispatch(dispatchTransport, jobs, {
    timeoutMs: 90_000,
    onEvent: (e) => {
      if (e.type === "SUCCESS" && e.task === check.name) testsDone++;
    },
  });
  await waitUntil("some tests done", () => testsDone >= 3, 30_000);
  await broker.kill();
  const doneAtKill = testsDone;
  await new Promise((resolve) => setTimeout(resolve, 500));
  await broker.restart();
  const { events, outcomes } = await dispatching;

  assert.ok(doneAtKill < 20, "the kill landed mid-fan-out");
  assert.equal(outcomes.length, 22);
  assert.ok(outcomes.every((o) => o.status === "SUCCESS"), JSON.stringify(outcomes));
  const finals = events.filter((e) => e.type === "SUCCESS");
  assert.equal(new Set(finals.map((e) => e.id)).size, 22, "one final result each");
  const reportOutcome = outcomes.find((o) => o.task === report.name)!;
  assert.equal(reportOutcome.result, 20);
  assert.equal(reportRuns, 1, "the report ran once");
  const sent = events.filter((e) => e.type === "SENT" && e.task === report.name);
  assert.equal(sent.length, 1);
  const lastTestDone = Math.max(
    ...outcomes.filter((o) => o.task === check.name).map((o) => o.doneAt!),
  );
  assert.ok(sent[0].at >= lastTestDone, "the report was sent after every test had ended");
  const testResults = outcomes.filter((o) => o.task === check.name).map((o) => o.result);
  assert.ok(testResults.every((r) => typeof r === "string" && r.startsWith("artifact:")));
});
