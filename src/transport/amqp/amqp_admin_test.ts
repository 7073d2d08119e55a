import assert from "node:assert/strict";
import type { ChannelModel } from "amqplib";
import { AmqpAdmin } from "./amqp_admin.ts";
import type { AmqpConnection } from "./amqp_connection.ts";
import type { Declaration } from "./amqp_topology.ts";

/** A connection that is always up on `conn`, whose channels do nothing. */
function fakeConnection(): { connection: AmqpConnection; replace(): void } {
  const open = (): ChannelModel =>
    ({ createChannel: () => Promise.resolve({ on() {} }) }) as unknown as ChannelModel;
  let conn = open();
  const connection = {
    whenConnected: () => Promise.resolve(conn),
    get current() {
      return conn;
    },
  } as unknown as AmqpConnection;
  return { connection, replace: () => (conn = open()) };
}

/** A declaration whose runs are counted and end when `finish` is called. */
function slowDeclaration(outcome: "ok" | "refused" = "ok") {
  const finishers: (() => void)[] = [];
  const declaration: Declaration & { runs: number } = {
    action: `declare queue "q"`,
    key: "queue\0q",
    id: "queue\0q\0classic",
    queues: ["q"],
    runs: 0,
    run() {
      declaration.runs++;
      return new Promise<void>((resolve, reject) => {
        finishers.push(() =>
          outcome === "ok" ? resolve() : reject(new Error("PRECONDITION_FAILED"))
        );
      });
    },
  };
  const finish = () => finishers.splice(0).forEach((f) => f());
  return { declaration, finish };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("declarations asked for while one is on its way share it: one round trip for 500 callers", async () => {
  const { connection } = fakeConnection();
  const admin = new AmqpAdmin(connection, () => {});
  const { declaration, finish } = slowDeclaration();
  const callers = Array.from({ length: 500 }, () => admin.declare(declaration));
  await tick();
  finish();
  await Promise.all(callers);
  assert.equal(declaration.runs, 1);
  await admin.declare(declaration);
  assert.equal(declaration.runs, 1, "declared already on this connection: no round trip");
});

Deno.test("a refused shared declaration fails every caller, and the next one asks the broker again", async () => {
  const { connection } = fakeConnection();
  const admin = new AmqpAdmin(connection, () => {});
  const { declaration, finish } = slowDeclaration("refused");
  const callers = Array.from({ length: 3 }, () => admin.declare(declaration));
  await tick();
  finish();
  const outcomes = await Promise.allSettled(callers);
  assert.deepEqual(outcomes.map((o) => o.status), ["rejected", "rejected", "rejected"]);
  for (const outcome of outcomes) {
    assert.match(String((outcome as PromiseRejectedResult).reason), /declare queue "q"/);
  }
  const again = admin.declare(declaration);
  await tick();
  finish();
  await assert.rejects(again, /PRECONDITION_FAILED/);
  assert.equal(declaration.runs, 2);
});

Deno.test("a declaration on its way on a dropped connection is not shared with the new one", async () => {
  const { connection, replace } = fakeConnection();
  const admin = new AmqpAdmin(connection, () => {});
  const { declaration, finish } = slowDeclaration();
  const onOld = admin.declare(declaration);
  await tick();
  admin.reset();
  replace();
  const onNew = admin.declare(declaration);
  await tick();
  assert.equal(declaration.runs, 2);
  finish();
  await Promise.all([onOld, onNew]);
});
