import assert from "node:assert/strict";
import { restartDelayMs } from "./crash_backoff.ts";

Deno.test("restartDelayMs() doubles from 1 s per crash in a row and stops at 30 s", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => restartDelayMs(n)),
    [0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000],
  );
  assert.equal(restartDelayMs(3, { initialMs: 10, maxMs: 25 }), 25);
});
