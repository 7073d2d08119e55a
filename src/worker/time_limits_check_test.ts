import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { checkTimeLimits } from "./time_limits_check.ts";

const task = (timeoutMs: number | null): TaskDefinition => ({
  name: "task_long",
  queue: "q",
  retry: DEFAULT_RETRY_SETTINGS,
  timeoutMs,
  source: "test",
});

Deno.test("checkTimeLimits() refuses a task that may outlast the broker's consumer_timeout", () => {
  const warnings: string[] = [];
  const options = {
    consumerTimeoutMs: 30 * 60_000,
    killGraceMs: 5000,
    warn: (m: string) => warnings.push(m),
  };
  checkTimeLimits([task(10 * 60_000)], options);
  assert.throws(
    () => checkTimeLimits([task(30 * 60_000 - 5000)], options),
    (error) =>
      error instanceof UsageError &&
      error.message.startsWith(
        'Cannot start worker: task "task_long" may run 1795s (+ 5s worker.kill_grace), not less than the broker\'s consumer_timeout of 30m',
      ),
  );
  assert.deepEqual(warnings, []);
  checkTimeLimits([task(null)], options);
  assert.equal(warnings.length, 1, "no limit at all is warned about");
});
