import assert from "node:assert/strict";
import { encodeResultMessage } from "../protocol/celery_result_message.ts";
import { decodeTaskMessage } from "../protocol/celery_task_message.ts";
import type { TaskEvent } from "../report/task_event.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { Transport } from "../transport/transport.ts";
import { dispatch, type DispatchJob } from "./dispatcher.ts";

/**
 * A stand-in worker on queue_a: a task whose first arg is "fail" fails; one
 * with "hold" never answers; any other answers its own args as its result.
 */
function argsEchoWorker(transport: Transport, signal: AbortSignal): Promise<void> {
  return (async () => {
    await transport.assertTaskQueue("queue_a");
    for await (const delivery of transport.consume("queue_a", { prefetch: 20, signal })) {
      const message = decodeTaskMessage(delivery.body, delivery.props);
      const fail = message.args[0] === "fail";
      if (message.args[0] !== "hold") {
        const { body, props } = encodeResultMessage({
          taskId: message.id,
          status: fail ? "FAILURE" : "SUCCESS",
          result: fail
            ? { exc_type: "ValueError", exc_message: ["build broke"], exc_module: "builtins" }
            : message.args,
          traceback: null,
          children: [],
          dateDone: new Date().toISOString(),
        });
        await transport.publish(message.replyTo!, body, props);
      }
      await delivery.ack();
    }
  })();
}

function pipeline(buildArg: string, onFailure: "skip" | "continue" = "skip"): DispatchJob[] {
  const base = { task: "task_a", queue: "queue_a", kwargs: {} };
  return [
    { ...base, job: "build", args: [buildArg] },
    ...Array.from({ length: 3 }, (): DispatchJob => ({
      ...base,
      job: "test",
      args: ["t"],
      after: ["build"],
      argsFrom: "build",
      onFailure,
    })),
    { ...base, job: "report", args: ["r"], after: ["test"], argsFrom: "test", onFailure },
  ];
}

async function run(jobs: DispatchJob[], signal?: AbortSignal): Promise<TaskEvent[]> {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const worker = argsEchoWorker(transport, stop.signal);
  const seen: TaskEvent[] = [];
  try {
    for await (const event of dispatch({ transport, jobs, timeoutMs: 5000, signal })) {
      seen.push(event);
    }
  } finally {
    stop.abort();
    await worker;
    await transport.close();
  }
  return seen;
}

Deno.test("dispatch() holds jobs until the ones they come after end, then passes their results on", async () => {
  const events = await run(pipeline("src"));
  const jobOf = new Map<string, string>();
  for (const e of events) if (e.type === "SENT" || e.type === "WAITING") jobOf.set(e.id, e.job!);
  const trace = events.map((e) => `${jobOf.get(e.id)}:${e.type}`);
  assert.deepEqual(trace.slice(0, 5), [
    "build:SENT",
    "test:WAITING",
    "test:WAITING",
    "test:WAITING",
    "report:WAITING",
  ]);
  // Nothing of a job is sent before everything it waits for has ended.
  const index = (label: string) => trace.indexOf(label);
  const lastIndex = (label: string) => trace.lastIndexOf(label);
  assert.ok(index("build:SUCCESS") < index("test:SENT"));
  assert.ok(lastIndex("test:SUCCESS") < index("report:SENT"));
  const report = events.find((e) => jobOf.get(e.id) === "report" && e.type === "SUCCESS");
  assert.ok(report?.type === "SUCCESS");
  // report's args: the list of the three tests' results, each [build's result, "t"].
  assert.deepEqual(report.result, [
    [[["src"], "t"], [["src"], "t"], [["src"], "t"]],
    "r",
  ]);
  assert.equal(events.filter((e) => e.type === "SUCCESS").length, 5);
});

Deno.test("dispatch() skips what waits for a failed job, at once and transitively", async () => {
  const started = performance.now();
  const events = await run(pipeline("fail"));
  assert.ok(performance.now() - started < 2000, "no wait for jobs that can no longer start");
  const finals = events.filter((e) => e.type === "FAILURE" || e.type === "SKIPPED");
  assert.deepEqual(finals.map((e) => e.type), [
    "FAILURE",
    "SKIPPED",
    "SKIPPED",
    "SKIPPED",
    "SKIPPED",
  ]);
  assert.equal(events.filter((e) => e.type === "SENT").length, 1);
  const skipped = finals[1];
  assert.ok(skipped.type === "SKIPPED");
  assert.equal(skipped.error?.type, "DependencyError");
  assert.match(skipped.error?.message ?? "", /"build" did not succeed \(1 FAILURE of 1\)/);
});

Deno.test("dispatch() with on_failure: continue sends the dependents of a failed job", async () => {
  const events = await run(pipeline("fail", "continue"));
  assert.equal(events.filter((e) => e.type === "SENT").length, 5);
  assert.equal(events.filter((e) => e.type === "SKIPPED").length, 0);
  const results = events.filter((e) => e.type === "SUCCESS").map((e) =>
    e.type === "SUCCESS" ? e.result : null
  );
  // Tests get null for the failed build's result; report gets their three results.
  assert.deepEqual(results.slice(0, 3), [[null, "t"], [null, "t"], [null, "t"]]);
  assert.deepEqual(results[3], [[[null, "t"], [null, "t"], [null, "t"]], "r"]);
});

Deno.test("dispatch() interrupted while jobs wait ends the held tasks SKIPPED, the sent ones INTERRUPTED", async () => {
  const interrupt = new AbortController();
  const jobs = pipeline("hold");
  const promise = run(jobs, interrupt.signal);
  setTimeout(() => interrupt.abort("SIGINT"), 100);
  const events = await promise;
  const finals = events.filter((e) => e.type === "INTERRUPTED" || e.type === "SKIPPED");
  assert.deepEqual(finals.map((e) => e.type), [
    "INTERRUPTED",
    "SKIPPED",
    "SKIPPED",
    "SKIPPED",
    "SKIPPED",
  ]);
  assert.match(
    finals[1].type === "SKIPPED" ? finals[1].error?.message ?? "" : "",
    /interrupted by SIGINT while it waited/,
  );
});
