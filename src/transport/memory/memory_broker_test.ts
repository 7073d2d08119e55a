import assert from "node:assert/strict";
import { ManualClock } from "../../../tests/helpers/manual_clock.ts";
import { BrokerError } from "../../errors.ts";
import { MemoryBroker, type MemoryQueueOptions } from "./memory_broker.ts";
import { PLAIN_QUEUE_OPTIONS } from "./memory_queue.ts";

const QUEUE: MemoryQueueOptions = PLAIN_QUEUE_OPTIONS;
const body = (text: string): Uint8Array => new TextEncoder().encode(text);
const props = { headers: {} };

Deno.test("MemoryBroker.publish() with a delay holds the message until the clock reaches it", async () => {
  const clock = new ManualClock();
  using broker = new MemoryBroker({ clock });
  broker.assertQueue("q", QUEUE);
  const publisher = broker.openSession();
  broker.publish("", "q", body("later"), props, 1000);
  publisher.close();
  clock.tick(999);
  await Promise.resolve();
  assert.equal(broker.inspectQueue("q")?.messages, 0);
  clock.tick(1);
  await Promise.resolve();
  assert.equal(broker.inspectQueue("q")?.messages, 1);
});

Deno.test("MemoryBroker.close() cancels pending delay timers", () => {
  const broker = new MemoryBroker();
  broker.assertQueue("q", QUEUE);
  broker.publish("", "q", body("never"), props, 60_000);
  broker.close();
  assert.equal(broker.closed, true);
  assert.throws(() => broker.inspectQueue("q"), BrokerError);
});

Deno.test("MemoryBroker delivers round-robin to consumers with room", async () => {
  using broker = new MemoryBroker();
  broker.assertQueue("q", QUEUE);
  const got: string[] = [];
  const sessions = [broker.openSession(), broker.openSession()];
  sessions.forEach((session, index) => {
    session.consume("q", 10, {
      deliver: (_tag, message) => got.push(`${index}:${new TextDecoder().decode(message.body)}`),
      cancelled: () => {},
    });
  });
  await Promise.resolve();
  for (const text of ["a", "b", "c", "d"]) broker.publish("", "q", body(text), props);
  assert.deepEqual(got, ["0:a", "1:b", "0:c", "1:d"]);
  assert.deepEqual(broker.inspectQueue("q"), { messages: 0, consumers: 2 });
  sessions[0].close();
  assert.deepEqual(broker.inspectQueue("q"), { messages: 0, consumers: 1 });
  assert.deepEqual(got.slice(4), ["1:a", "1:c"]);
});

Deno.test("MemoryBroker deletes a queue unused for expiresMs; a get() restarts the countdown", async () => {
  const clock = new ManualClock();
  using broker = new MemoryBroker({ clock });
  broker.assertQueue("q", { ...QUEUE, expiresMs: 100 });
  const session = broker.openSession();
  clock.tick(60);
  session.get("q");
  clock.tick(60);
  await Promise.resolve();
  assert.notEqual(broker.inspectQueue("q"), null);
  clock.tick(40);
  await Promise.resolve();
  assert.equal(broker.inspectQueue("q"), null);
});

Deno.test("MemoryBroker drops messages older than messageTtlMs", () => {
  const clock = new ManualClock();
  using broker = new MemoryBroker({ clock });
  broker.assertQueue("q", { ...QUEUE, messageTtlMs: 50 });
  broker.publish("", "q", body("old"), props);
  clock.tick(30);
  broker.publish("", "q", body("new"), props);
  clock.tick(20);
  assert.equal(broker.inspectQueue("q")?.messages, 1);
  const got = broker.openSession().get("q");
  assert.equal(new TextDecoder().decode(got?.message.body), "new");
});

Deno.test("MemoryBroker deletes an autoDelete queue when its last consumer goes", () => {
  using broker = new MemoryBroker();
  broker.assertQueue("reply", { ...QUEUE, autoDelete: true });
  const consumer = broker.openSession().consume("reply", 1, {
    deliver: () => {},
    cancelled: () => {},
  });
  assert.notEqual(broker.inspectQueue("reply"), null);
  consumer.cancel();
  assert.equal(broker.inspectQueue("reply"), null);
});

Deno.test("MemoryBroker routes fanout and direct exchanges and refuses unroutable messages", () => {
  using broker = new MemoryBroker();
  broker.assertQueue("a", QUEUE);
  broker.assertQueue("b", QUEUE);
  broker.assertExchange("fan", "fanout", true);
  broker.assertExchange("dir", "direct", true);
  broker.bindQueue("a", "fan", "");
  broker.bindQueue("b", "fan", "");
  broker.bindQueue("a", "dir", "key");
  broker.publish("fan", "whatever", body("1"), props);
  broker.publish("dir", "key", body("2"), props);
  assert.equal(broker.inspectQueue("a")?.messages, 2);
  assert.equal(broker.inspectQueue("b")?.messages, 1);
  assert.throws(() => broker.publish("dir", "other", body("3"), props), /unroutable/);
  assert.throws(() => broker.publish("", "missing", body("4"), props), /unroutable/);
  assert.throws(() => broker.publish("", "missing", body("5"), props, 100), /unroutable/);
  assert.throws(() => broker.publish("nope", "key", body("6"), props), /no such exchange/);
  assert.throws(() => broker.assertExchange("amq.x", "topic", true), /reserved/);
});

Deno.test("MemoryBroker refuses to redeclare a queue with other options", () => {
  using broker = new MemoryBroker();
  broker.assertQueue("q", QUEUE);
  broker.assertQueue("q", QUEUE);
  assert.throws(
    () => broker.assertQueue("q", { ...QUEUE, type: "quorum" }),
    (error: unknown) => error instanceof BrokerError && !error.recoverable,
  );
});
