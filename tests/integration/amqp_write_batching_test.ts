/**
 * amqp_write_batching.ts on a real broker: the frames of one multiplexer
 * round leave in one socket write, all of them arrive, and an amqplib
 * without the internals it needs is refused at connect.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import { batchSocketWrites } from "../../src/transport/amqp/amqp_write_batching.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";

interface SocketSpy {
  writes: number;
}

/** Count the socket's writes (`_write` for one chunk, `_writev` for a batch). */
function spyOnSocket(model: amqp.ChannelModel): SocketSpy {
  const stream = (model as unknown as {
    connection: { stream: { _write: unknown; _writev: unknown } };
  }).connection.stream as Record<string, (...args: unknown[]) => unknown>;
  const spy = { writes: 0 };
  for (const method of ["_write", "_writev"]) {
    const original = stream[method];
    if (typeof original !== "function") continue;
    stream[method] = function (this: unknown, ...args: unknown[]) {
      spy.writes++;
      return original.apply(this, args);
    };
  }
  return spy;
}

/** Publish `count` messages in one turn; the socket writes it took, once all are confirmed. */
async function publishBurst(url: string, queue: string, batched: boolean, count: number) {
  const model = await amqp.connect(url, { noDelay: true });
  try {
    if (batched) batchSocketWrites(model);
    const channel = await model.createConfirmChannel();
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    const spy = spyOnSocket(model);
    for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`));
    await channel.waitForConfirms();
    const writes = spy.writes;
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return { writes, messageCount };
  } finally {
    await model.close();
  }
}

Deno.test("batchSocketWrites(): a burst of 200 publishes leaves in a few socket writes, and every message arrives", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const [batchedQ, plainQ] = [ns.queue("batched"), ns.queue("plain")];
  try {
    const batched = await publishBurst(broker.url, batchedQ, true, 200);
    const plain = await publishBurst(broker.url, plainQ, false, 200);
    assert.equal(batched.messageCount, 200, "every batched message reached the queue");
    assert.equal(plain.messageCount, 200);
    assert.ok(batched.writes <= 5, `the burst took ${batched.writes} socket writes`);
    // Without the patch, amqplib writes frame by frame: what the patch is for.
    assert.ok(plain.writes > batched.writes * 5, `unpatched: ${plain.writes} writes`);
  } finally {
    await deleteQueues(broker.url, [batchedQ, plainQ]);
  }
});

Deno.test("batchSocketWrites() refuses a connection without the internals it relies on", () => {
  for (const model of [null, {}, { connection: {} }, { connection: { muxer: {}, stream: {} } }]) {
    assert.throws(
      () => batchSocketWrites(model),
      (error: unknown) =>
        error instanceof TypeError &&
        /Cannot batch amqplib's socket writes: its Connection internals changed/.test(
          error.message,
        ),
    );
  }
});
