import assert from "node:assert/strict";
import { EventChannel } from "./event_channel.ts";

Deno.test("EventChannel yields pushed values in order, then ends on close", async () => {
  const channel = new EventChannel<number>();
  channel.push(1);
  setTimeout(() => {
    channel.push(2);
    channel.close();
    channel.push(3);
  }, 5);
  const seen: number[] = [];
  for await (const value of channel) seen.push(value);
  assert.deepEqual(seen, [1, 2]);
});

Deno.test("EventChannel throws the close error after the buffered values", async () => {
  const channel = new EventChannel<number>();
  channel.push(1);
  channel.close(new Error("broken"));
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const value of channel) seen.push(value);
  }, /broken/);
  assert.deepEqual(seen, [1]);
});
