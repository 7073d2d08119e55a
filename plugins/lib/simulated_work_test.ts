import assert from "node:assert/strict";
import { simulateWork, workTime } from "./simulated_work.ts";

Deno.test("simulateWork(0) resolves without waiting for a timer", async () => {
  let timerFired = false;
  const timer = setTimeout(() => (timerFired = true), 0);
  await simulateWork(0, new AbortController().signal);
  assert.equal(timerFired, false, "it waited for a timer turn");
  clearTimeout(timer);
});

Deno.test("simulateWork() waits its time and stops at an abort with the signal's reason", async () => {
  const started = performance.now();
  await simulateWork(20, new AbortController().signal);
  assert.ok(performance.now() - started >= 19, "it did not wait");
  const controller = new AbortController();
  const working = simulateWork(60_000, controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(working, /stop/);
  await assert.rejects(simulateWork(0, AbortSignal.abort(new Error("early"))), /early/);
});

Deno.test("workTime() takes kwargs.work_ms, then args[0], then the fallback", () => {
  assert.equal(workTime({ args: [5], kwargs: { work_ms: 7 } }, 100), 7);
  assert.equal(workTime({ args: [5], kwargs: {} }, 100), 5);
  assert.equal(workTime({ args: ["x"], kwargs: {} }, 100), 100);
  assert.equal(workTime({ args: [-1], kwargs: {} }, 100), 100);
});
