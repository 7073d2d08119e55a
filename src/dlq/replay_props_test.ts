import assert from "node:assert/strict";
import { replayProps } from "./replay_props.ts";

const DEAD = {
  headers: {
    id: "1",
    task: "task_a",
    retries: 3,
    eta: "2026-01-01T00:00:00Z",
    "x-dts-reason": "x",
  },
  replyTo: "dts.reply.gone",
  correlationId: "1",
};

Deno.test("replayProps() starts the task afresh and drops its reply_to by default", () => {
  const props = replayProps(DEAD);
  assert.deepEqual(props, {
    headers: { id: "1", task: "task_a", retries: 0, eta: null },
    correlationId: "1",
    persistent: true,
  });
  assert.equal("replyTo" in props, false);
});

Deno.test("replayProps() keeps reply_to when told its queue still exists", () => {
  assert.equal(replayProps(DEAD, { keepReplyTo: true }).replyTo, "dts.reply.gone");
});
