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
