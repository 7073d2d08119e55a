import assert from "node:assert/strict";
import { silentLogger } from "../log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { ResultNotJsonError, runAttempt, TaskTimeoutError } from "./run_attempt.ts";

function task(run: TaskDefinition["run"], timeoutMs: number | null = null): TaskDefinition {
  return { name: "t", queue: "q", retry: DEFAULT_RETRY_SETTINGS, timeoutMs, run, source: "test" };
}

function input(stopSignal = new AbortController().signal) {
  return {
    id: "id-1",
    name: "t",
    args: [1],
    kwargs: { x: 2 },
    retries: 0,
    log: silentLogger,
    stopSignal,
  };
}

Deno.test("runAttempt() returns the plugin's value and passes the context", async () => {
  const outcome = await runAttempt(
    task((ctx) => ({ got: [ctx.id, ctx.args, ctx.kwargs] })),
    input(),
  );
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.ok && outcome.value, { got: ["id-1", [1], { x: 2 }] });
});

Deno.test("runAttempt() turns undefined into null, as Python's None", async () => {
  const outcome = await runAttempt(task(() => undefined), input());
  assert.deepEqual(outcome, { ok: true, value: null, runtimeMs: outcome.runtimeMs });
});

Deno.test("runAttempt() reports a throw as a failed attempt", async () => {
  const outcome = await runAttempt(task(() => Promise.reject(new TypeError("nope"))), input());
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.error instanceof TypeError);
  assert.ok(!outcome.ok && !outcome.timedOut && !outcome.stopped);
});

Deno.test("runAttempt() aborts the signal at the timeout and fails even if the plugin ignores it", async () => {
  let sawAbort = false;
  const outcome = await runAttempt(
    task((ctx) => {
      ctx.signal.addEventListener("abort", () => (sawAbort = true));
      return new Promise((resolve) => setTimeout(resolve, 300));
    }, 30),
    input(),
  );
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.timedOut && outcome.error instanceof TaskTimeoutError);
  assert.equal(sawAbort, true);
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the ignored timer end
});

Deno.test("runAttempt() marks an attempt cut short by the worker's stop", async () => {
  const stop = new AbortController();
  const running = runAttempt(
    task((ctx) =>
      new Promise((_, reject) =>
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))
      )
    ),
    input(stop.signal),
  );
  stop.abort(new Error("stopping"));
  const outcome = await running;
  assert.ok(!outcome.ok && outcome.stopped && !outcome.timedOut);
});

Deno.test("runAttempt() fails a result that is not JSON, as not retryable", async () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const outcome = await runAttempt(task(() => circular), input());
  assert.ok(!outcome.ok && outcome.error instanceof ResultNotJsonError);
  assert.equal(!outcome.ok && (outcome.error as ResultNotJsonError).retryable, false);
  const fn = await runAttempt(task(() => () => 1), input());
  assert.ok(!fn.ok && fn.error instanceof ResultNotJsonError);
});
