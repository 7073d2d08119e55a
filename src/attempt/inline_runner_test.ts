import assert from "node:assert/strict";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { silentLogger } from "../log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { runInline } from "./inline_runner.ts";

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

Deno.test("runInline() returns the plugin's value and passes the context", async () => {
  const outcome = await runInline(
    task((ctx) => ({ got: [ctx.id, ctx.args, ctx.kwargs] })),
    input(),
  );
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.ok && outcome.value, { got: ["id-1", [1], { x: 2 }] });
});

Deno.test("runInline() turns undefined into null, as Python's None", async () => {
  const outcome = await runInline(task(() => undefined), input());
  assert.deepEqual(outcome, { ok: true, value: null, runtimeMs: outcome.runtimeMs });
});

Deno.test("runInline() reports a throw as a failed attempt with its type and message", async () => {
  const outcome = await runInline(task(() => Promise.reject(new TypeError("nope"))), input());
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.type, "TypeError");
  assert.equal(outcome.error.message, "nope");
  assert.ok(outcome.retryable && !outcome.timedOut && !outcome.stopped);
});

Deno.test("runInline() takes retryable === false from what was thrown", async () => {
  const thrown = Object.assign(new Error("bad input"), { retryable: false });
  const outcome = await runInline(
    task(() => {
      throw thrown;
    }),
    input(),
  );
  assert.ok(!outcome.ok && !outcome.retryable);
});

Deno.test("runInline() aborts the signal at the timeout and fails even if the plugin ignores it", async () => {
  const clock = new ManualClock();
  let sawAbort = false;
  let release = (): void => {};
  const running = runInline(
    task((ctx) => {
      ctx.signal.addEventListener("abort", () => (sawAbort = true));
      return new Promise<void>((resolve) => (release = resolve));
    }, 30),
    input(),
    { clock },
  );
  await Promise.resolve();
  clock.tick(30);
  const outcome = await running;
  assert.ok(!outcome.ok && outcome.timedOut);
  assert.equal(outcome.error.type, "TaskTimeoutError");
  assert.equal(outcome.error.message, "Task did not finish within 30 ms");
  assert.equal(sawAbort, true);
  release();
});

Deno.test("runInline() marks an attempt cut short by the worker's stop", async () => {
  const stop = new AbortController();
  const running = runInline(
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

Deno.test("runInline() fails a result that JSON would change, as not retryable", async () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  for (const value of [circular, () => 1, new Map([["a", 1]]), { n: Number.NaN }]) {
    const outcome = await runInline(task(() => value), input());
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.type, "ResultNotJsonError");
    assert.match(outcome.error.message, /^Cannot store the task's result: result/);
    assert.equal(outcome.retryable, false);
  }
});

Deno.test("runInline() survives a plugin that throws a hostile object", async () => {
  const trap = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
    getPrototypeOf() {
      throw new Error("trap");
    },
  });
  const outcome = await runInline(
    task(() => {
      throw trap;
    }),
    input(),
  );
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.type, "Error");
});
