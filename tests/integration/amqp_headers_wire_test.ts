/**
 * What `AmqpTransport` puts on the wire for header values, read from the raw
 * bytes through a TCP proxy: Celery's py-amqp needs `I` for ints, `l` for
 * wider ints, `d` for floats (amqplib alone would write `b`/`s`).
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";

/** Encode one field-table entry the way AMQP 0-9-1 does: name length, name, type tag, value. */
function field(name: string, tag: string, value: Uint8Array = new Uint8Array()): Buffer {
  return Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from(tag), value]);
}
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};
const double = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b;
};

Deno.test("AmqpTransport.publish() writes header numbers as Celery does (I, l, d) on the wire", async () => {
  await using broker = await testBroker();
  const upstream = new URL(broker.url);
  const captured: Uint8Array[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const proxying = (async () => {
    const client = await listener.accept();
    const server = await Deno.connect({
      hostname: upstream.hostname,
      port: Number(upstream.port || 5672),
    });
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        captured.push(chunk.slice());
        controller.enqueue(chunk);
      },
    });
    await Promise.all([
      client.readable.pipeThrough(tap).pipeTo(server.writable).catch(() => {}),
      server.readable.pipeTo(client.writable).catch(() => {}),
    ]);
  })();
  const proxied = new URL(broker.url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(listener.addr.port);
  const q = testNamespace().queue("wire");
  const transport = await AmqpTransport.connect(proxied.toString());
  try {
    await transport.assertQueue(q, { durable: false });
    await transport.publish(q, new TextEncoder().encode("{}"), {
      headers: {
        retries: 0,
        neg: -1,
        small: 128,
        big: 2 ** 31,
        ratio: 1.5,
        eta: null,
        flag: true,
        lang: "py",
        timelimit: [300, 600],
      },
    });
    const delivery = await transport.get(q);
    assert.ok(delivery);
    assert.deepEqual(delivery.props.headers.timelimit, [300, 600]);
    assert.equal(delivery.props.headers.small, 128);
    await delivery.ack();
  } finally {
    await transport.close();
    listener.close();
    await proxying;
    await deleteQueues(broker.url, [q]);
  }
  const wire = Buffer.concat(captured);
  const expected: [string, Buffer][] = [
    ["retries I 0", field("retries", "I", int32(0))],
    ["neg I -1", field("neg", "I", int32(-1))],
    ["small I 128", field("small", "I", int32(128))],
    ["big l 2^31", field("big", "l", int64(2 ** 31))],
    ["ratio d 1.5", field("ratio", "d", double(1.5))],
    ["eta V", field("eta", "V")],
    ["flag t", field("flag", "t", Buffer.from([1]))],
    ["lang S", field("lang", "S", Buffer.concat([int32(2), Buffer.from("py")]))],
    [
      "timelimit A [I 300, I 600]",
      field(
        "timelimit",
        "A",
        Buffer.concat([int32(10), Buffer.from("I"), int32(300), Buffer.from("I"), int32(600)]),
      ),
    ],
  ];
  for (const [what, bytes] of expected) {
    assert.ok(wire.includes(bytes), `header ${what} not found on the wire`);
  }
});
