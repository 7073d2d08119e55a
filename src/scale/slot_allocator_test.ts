import assert from "node:assert/strict";
import { SlotAllocator } from "./slot_allocator.ts";

Deno.test("SlotAllocator hands out the lowest free number and reuses released ones", () => {
  const slots = new SlotAllocator(9100);
  assert.deepEqual([slots.acquire(), slots.acquire(), slots.acquire()], [9100, 9101, 9102]);
  slots.release(9101);
  assert.equal(slots.acquire(), 9101);
  assert.equal(slots.acquire(), 9103);
});
