import assert from "node:assert/strict";
import { judgeRedelivery } from "./redelivery_guard.ts";

const headers = (n?: unknown) => (n === undefined ? {} : { "x-dts-redeliveries": n });

Deno.test("judgeRedelivery() runs a first delivery and a redelivery this worker caused", () => {
  assert.deepEqual(
    judgeRedelivery({ redelivered: false, headers: headers(2) }, {
      ours: false,
      maxRedeliveries: 3,
    }),
    { action: "run" },
  );
  assert.deepEqual(
    judgeRedelivery({ redelivered: true, headers: headers(2) }, { ours: true, maxRedeliveries: 3 }),
    { action: "run" },
  );
});

Deno.test("judgeRedelivery() counts another worker's death, then calls the message poison past the limit", () => {
  const judge = (n?: unknown) =>
    judgeRedelivery({ redelivered: true, headers: headers(n) }, {
      ours: false,
      maxRedeliveries: 3,
    });
  assert.deepEqual(judge(), { action: "count", redeliveries: 1 });
  assert.deepEqual(judge(2), { action: "count", redeliveries: 3 });
  assert.deepEqual(judge(3), { action: "poison", redeliveries: 4 });
  assert.deepEqual(
    judge("junk"),
    { action: "count", redeliveries: 1 },
    "a bad header counts from 0",
  );
  assert.deepEqual(judge(-4), { action: "count", redeliveries: 1 });
});

Deno.test("judgeRedelivery() with maxRedeliveries 0 never counts", () => {
  assert.deepEqual(
    judgeRedelivery({ redelivered: true, headers: headers(99) }, {
      ours: false,
      maxRedeliveries: 0,
    }),
    { action: "run" },
  );
});
