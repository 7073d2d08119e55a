import assert from "node:assert/strict";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { runLoad } from "./load_runner.ts";

Deno.test("runLoad() counts tasks still in flight at an interrupt as interrupted, not timed out", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const interrupt = new AbortController();
  const timer = setTimeout(() => interrupt.abort("SIGINT"), 100);
  const report = await runLoad({
    transport,
    task: "task_a",
    queue: "queue_a",
    count: 3,
    timeoutMs: 60_000,
    signal: interrupt.signal,
  });
  clearTimeout(timer);
  assert.deepEqual(
    [report.sent, report.succeeded, report.failed, report.timed_out, report.interrupted],
    [3, 0, 0, 0, 3],
  );
  // The tasks are not withdrawn: they wait for a worker.
  assert.equal((await transport.inspectQueue("queue_a"))?.messages, 3);
  await transport.close();
});
