import assert from "node:assert/strict";
import { createRunId, isRunId, replyQueueName } from "./run_id.ts";

Deno.test("createRunId() is the UTC start time and 6 hex digits", () => {
  const id = createRunId(
    new Date(Date.UTC(2026, 10, 28, 9, 5, 7)),
    () => new Uint8Array([0x4f, 0x09, 0xa2]),
  );
  assert.equal(id, "20261128_090507-4f09a2");
  assert.ok(isRunId(id));
  assert.equal(replyQueueName(id), "dts.reply.20261128_090507-4f09a2");
});

Deno.test("createRunId() differs between runs started in the same second", () => {
  const now = new Date();
  assert.notEqual(createRunId(now), createRunId(now));
  assert.ok(isRunId(createRunId(now)));
});

Deno.test("isRunId() refuses anything else, paths included", () => {
  for (const text of ["", "20261128_090507", "20261128_090507-4F09A2", "../../etc/passwd", "x"]) {
    assert.equal(isRunId(text), false, text);
  }
});
