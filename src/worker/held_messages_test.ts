import assert from "node:assert/strict";
import { HeldMessages } from "./held_messages.ts";

Deno.test("HeldMessages forgets a settled message and the oldest past its limit", () => {
  const held = new HeldMessages(2);
  held.take("a");
  held.take("b");
  assert.ok(held.has("a") && held.has("b"));
  held.settled("a");
  assert.equal(held.has("a"), false);
  held.take("c");
  held.take("d");
  assert.equal(held.has("b"), false, "the oldest went");
  assert.ok(held.has("c") && held.has("d"));
});
