import assert from "node:assert/strict";
import { createTaskMessage, encodeTaskMessage } from "../protocol/celery_task_message.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { deadLetterQueueName } from "../transport/transport.ts";
import { replayDeadLetters } from "./dead_letter_queue.ts";

Deno.test("replayDeadLetters() keeps a reply_to whose queue exists and drops a stale one", async () => {
  const broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  try {
    const queue = "queue_a";
    await transport.assertTaskQueue(queue);
    await transport.assertQueue("reply.waiting");
    for (const replyTo of ["reply.waiting", "reply.gone"]) {
      const { body, props } = encodeTaskMessage(createTaskMessage("task_a", { replyTo }));
      await transport.publish(deadLetterQueueName(queue), body, props);
    }
    assert.equal(await replayDeadLetters(transport, queue), 2);
    const replayed = [];
    for (let d = await transport.get(queue); d !== null; d = await transport.get(queue)) {
      replayed.push(d.props.replyTo ?? null);
      await d.ack();
    }
    assert.deepEqual(replayed, ["reply.waiting", null]);
  } finally {
    await transport.close();
    await broker.close();
  }
});
