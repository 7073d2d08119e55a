import assert from "node:assert/strict";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { SendSpan, TaskTracer } from "../tracing/task_tracer.ts";
import { NO_TRACING } from "../tracing/task_tracer.ts";
import { TaskSender } from "./send_task.ts";

/** A tracer whose send spans say what they ended with. */
function fakeTracer(ends: unknown[]): TaskTracer {
  return {
    ...NO_TRACING,
    startSend(): SendSpan {
      return {
        headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
        end: (error?: unknown) => void ends.push(error ?? "published"),
      };
    },
  };
}

Deno.test("TaskSender.send() adds no trace header when tracing is off", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  await new TaskSender({ transport, tracer: NO_TRACING }).send("q", createTaskMessage("task_a"));
  const delivery = await transport.get("q");
  assert.equal(delivery?.props.headers?.traceparent, undefined);
  await transport.close();
});

Deno.test("TaskSender.send() carries its send span's context and ends the span once published", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const ends: unknown[] = [];
  const message = createTaskMessage("task_a");
  await new TaskSender({ transport, tracer: fakeTracer(ends) }).send("q", message);
  const delivery = await transport.get("q");
  assert.equal(
    delivery?.props.headers?.traceparent,
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  );
  assert.deepEqual(message.extraHeaders, {}, "the caller's message is left as it was");
  assert.deepEqual(ends, ["published"]);
  await transport.close();
});
