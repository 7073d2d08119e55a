import assert from "node:assert/strict";
import { BrokerError } from "../errors.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { closeReplyQueue, openReplyQueue } from "./reply_queue.ts";
import type { Transport } from "../transport/transport.ts";

Deno.test("openReplyQueue() declares a fresh queue and closeReplyQueue() deletes it", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const name = await openReplyQueue(transport, { prefix: "dts.reply", timeoutMs: 1000 });
  assert.match(name, /^dts\.reply\.[0-9a-f-]{36}$/);
  assert.deepEqual(await transport.inspectQueue(name), { messages: 0, consumers: 0 });
  await closeReplyQueue(transport, name);
  assert.equal(await transport.inspectQueue(name), null);
  await transport.close();
});

Deno.test("closeReplyQueue() tries again after a dropped connection", async () => {
  using broker = new MemoryBroker();
  const inner = new MemoryTransport(broker);
  const name = await openReplyQueue(inner, { prefix: "dts.reply", timeoutMs: 1000 });
  let calls = 0;
  const transport = {
    deleteQueue: (queue: string) =>
      ++calls === 1
        ? Promise.reject(
          new BrokerError("Cannot delete queue: connection lost", { recoverable: true }),
        )
        : inner.deleteQueue(queue),
  } as unknown as Transport;
  await closeReplyQueue(transport, name);
  assert.equal(calls, 2);
  assert.equal(await inner.inspectQueue(name), null);
  await inner.close();
});

Deno.test("openReplyQueue() declares the queue it is told to, expiring when unused for expiresMs", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const name = await openReplyQueue(transport, {
    name: "dts.reply.20261128_100000-4f09a2",
    timeoutMs: 1000,
    expiresMs: 50,
  });
  assert.equal(name, "dts.reply.20261128_100000-4f09a2");
  assert.notEqual(await transport.inspectQueue(name), null);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(await transport.inspectQueue(name), null);
  await transport.close();
});
