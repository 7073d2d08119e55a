import assert from "node:assert/strict";
import { createLogger } from "../log/logger.ts";
import { loadProgressOutput } from "./load_progress_output.ts";

function setup(bar: boolean) {
  let clock = 0;
  const written: string[] = [];
  const logged: Record<string, unknown>[] = [];
  const logger = createLogger({
    format: "json",
    level: "info",
    write: (line) => logged.push(JSON.parse(line)),
  });
  const output = loadProgressOutput({
    target: { count: 100, durationMs: null },
    bar,
    width: 80,
    write: (text) => written.push(text),
    logger,
    now: () => clock,
  });
  return { output, written, logged, tick: (ms: number) => clock += ms };
}

Deno.test("loadProgressOutput() redraws a bar with total, rate and ETA on a terminal", () => {
  const { output, written, logged, tick } = setup(true);
  tick(1000);
  output.onProgress({ sent: 30, done: 20 });
  tick(1000);
  output.onProgress({ sent: 60, done: 50 });
  output.finish();
  assert.deepEqual(written, [
    "\r[#####-------------------]  20/100 done  20/s  ETA 4.0s\x1b[K",
    "\r[############------------]  50/100 done  25/s  ETA 2.0s\x1b[K",
    "\n",
  ]);
  assert.deepEqual(logged, []);
});

Deno.test("loadProgressOutput() writes a log line every 5 s when there is no terminal", () => {
  const { output, written, logged, tick } = setup(false);
  for (let i = 1; i <= 44; i++) {
    tick(250);
    output.onProgress({ sent: i * 2, done: i * 2 });
  }
  output.finish();
  assert.deepEqual(written, []);
  assert.deepEqual(
    logged.map((l) => [l.msg, l.done, l.total, l.rate_per_s]),
    [["Load progress", 40, 100, 8], ["Load progress", 80, 100, 8]],
  );
});
