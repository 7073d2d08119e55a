import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { MemoryBroker } from "./memory/memory_broker.ts";
import { MemoryTransport } from "./memory/memory_transport.ts";
import { openTransport } from "./open_transport.ts";

Deno.test("openTransport() opens memory:// on the given broker", async () => {
  using broker = new MemoryBroker();
  await using transport = await openTransport("memory://", { memoryBroker: broker });
  assert.ok(transport instanceof MemoryTransport);
  assert.equal(transport.url, "memory://");
  assert.equal(transport.connected, true);
});

Deno.test("openTransport() refuses memory:// without a broker and explains why", async () => {
  await assert.rejects(openTransport("memory://"), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /only inside one process/);
    return true;
  });
});

Deno.test("openTransport() refuses other schemes, naming the URL without its password", async () => {
  await assert.rejects(openTransport("redis://user:secret@host:6379/0"), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.match(error.message, /"redis:\/\/user:\*\*\*@host:6379\/0"/);
    assert.match(error.message, /amqp:\/\/, amqps:\/\/ or memory:\/\//);
    assert.doesNotMatch(error.message, /secret/);
    return true;
  });
});
