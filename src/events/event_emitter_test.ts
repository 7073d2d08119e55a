import assert from "node:assert/strict";
import type { Transport } from "../transport/transport.ts";
import { EventEmitter } from "./event_emitter.ts";

/** Just enough of a transport: publishes wait until released, or fail. */
function slowTransport(options: { connected?: boolean; fail?: boolean } = {}) {
  const waiting: (() => void)[] = [];
  const transport = {
    connected: options.connected ?? true,
    publish: () =>
      new Promise<void>((resolve, reject) =>
        waiting.push(options.fail ? () => reject(new Error("refused")) : resolve)
      ),
  } as unknown as Transport;
  return { transport, release: () => waiting.splice(0).forEach((settle) => settle()) };
}

Deno.test("EventEmitter.send() never waits: past maxInFlight unconfirmed publishes it drops and counts", async () => {
  const { transport, release } = slowTransport();
  const emitter = new EventEmitter({ transport, hostname: "w@h", maxInFlight: 3 });
  for (let i = 0; i < 5; i++) emitter.send("task-started", { uuid: `${i}` });
  assert.deepEqual(emitter.stats, { sent: 0, dropped: 2, failed: 0 });
  release();
  await emitter.flush(1000);
  assert.deepEqual(emitter.stats, { sent: 3, dropped: 2, failed: 0 });
  emitter.send("task-started", { uuid: "after" });
  release();
  await emitter.flush(1000);
  assert.equal(emitter.stats.sent, 4, "room again once the broker caught up");
});

Deno.test("EventEmitter.send() drops while disconnected and counts a refused publish, never throwing", async () => {
  const away = new EventEmitter({
    transport: slowTransport({ connected: false }).transport,
    hostname: "w@h",
  });
  away.send("worker-heartbeat", {});
  assert.deepEqual(away.stats, { sent: 0, dropped: 1, failed: 0 });
  const refusing = slowTransport({ fail: true });
  const emitter = new EventEmitter({ transport: refusing.transport, hostname: "w@h" });
  emitter.send("worker-heartbeat", {});
  refusing.release();
  await emitter.flush(1000);
  assert.deepEqual(emitter.stats, { sent: 0, dropped: 0, failed: 1 });
});

Deno.test("EventEmitter.flush() gives up after its timeout on a broker that never confirms", async () => {
  const { transport, release } = slowTransport();
  const emitter = new EventEmitter({ transport, hostname: "w@h" });
  emitter.send("worker-offline", {});
  const started = performance.now();
  await emitter.flush(50);
  assert.ok(performance.now() - started < 1000);
  release();
  await emitter.flush(1000);
});

/** A transport that records what is published and confirms at once. */
function recordingTransport() {
  const published: { routingKey: string; body: unknown }[] = [];
  const transport = {
    connected: true,
    publish: (routingKey: string, body: Uint8Array) => {
      published.push({ routingKey, body: JSON.parse(new TextDecoder().decode(body)) });
      return Promise.resolve();
    },
  } as unknown as Transport;
  return { transport, published };
}

Deno.test("EventEmitter with batchMs sends a task's events together on task.multi, worker events in order after them", async () => {
  const { transport, published } = recordingTransport();
  const emitter = new EventEmitter({ transport, hostname: "w@h", batchMs: 20, batchLimit: 3 });
  emitter.send("task-received", { uuid: "a" });
  emitter.send("task-started", { uuid: "a" });
  assert.equal(published.length, 0, "the batch waits");
  // A worker event sends the batch before it, so readers keep the order.
  emitter.send("worker-heartbeat", { active: 1 });
  assert.deepEqual(published.map((p) => p.routingKey), ["task.multi", "worker.heartbeat"]);
  const batch = published[0].body as { type: string; uuid: string; clock: number }[];
  assert.deepEqual(batch.map((e) => [e.type, e.uuid, e.clock]), [
    ["task-received", "a", 1],
    ["task-started", "a", 2],
  ]);
  // At the limit a batch goes at once; one event alone goes as itself, after batchMs.
  for (const uuid of ["b", "c", "d"]) emitter.send("task-succeeded", { uuid });
  assert.equal(published.at(-1)?.routingKey, "task.multi");
  assert.equal((published.at(-1)?.body as unknown[]).length, 3);
  emitter.send("task-failed", { uuid: "e" });
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(published.at(-1)?.routingKey, "task.failed");
  assert.equal((published.at(-1)?.body as { uuid: string }).uuid, "e");
  // flush() sends what waits.
  emitter.send("task-revoked", { uuid: "f" });
  await emitter.flush(1000);
  assert.equal(published.at(-1)?.routingKey, "task.revoked");
  assert.equal(emitter.stats.sent, 8);
});
