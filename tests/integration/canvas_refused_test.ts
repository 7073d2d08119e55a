/**
 * A canvas a dts worker cannot carry out (a chord: it needs a result backend
 * that stores results) is refused before the task runs: dead-lettered with
 * the reason, and a FAILURE sent to its client, never dropped or run half.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log/logger.ts";
import { decodeResultMessage } from "../../src/protocol/celery_result_message.ts";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { testTask } from "../helpers/in_process.ts";
import { drainQueue, waitUntil } from "../helpers/test_kit.ts";

Deno.test("a dts worker dead-letters a chord's header task with the reason and answers FAILURE CanvasUnsupported", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const q = ns.queue("chord");
  const reply = ns.queue("reply");
  await using transport = await openTransport(broker.url);
  let ran = 0;
  const worker = new Worker({
    transport,
    tasks: [testTask("task_add", q, () => ++ran)],
    name: "worker-chord@test",
    logger: createLogger({ format: "json", level: "error", write: () => {} }),
  });
  try {
    await transport.assertQueue(reply, { durable: false, expiresMs: 60_000 });
    await worker.start();
    // A header task of chord([add.s(1, 1), add.s(2, 2)])(tsum.s()), as a
    // Celery client with a redis:// backend sends it: embed.chord is the body.
    const message = createTaskMessage("task_add", {
      id: "chord-header-1",
      args: [1, 1],
      replyTo: reply,
    });
    message.group = "chord-group-1";
    message.embed = {
      callbacks: null,
      errbacks: null,
      chain: null,
      chord: {
        task: "tsum",
        args: [],
        kwargs: {},
        options: { task_id: "chord-body-1" },
        subtask_type: null,
        immutable: false,
        chord_size: 2,
      },
    };
    const { body, props } = encodeTaskMessage(message);
    await transport.publish(q, body, props);
    await waitUntil(
      "the dead letter",
      async () => (await transport.inspectQueue(deadLetterQueueName(q)))?.messages === 1,
    );
    const [dead] = await drainQueue(transport, deadLetterQueueName(q));
    assert.equal(dead.props.headers.id, "chord-header-1");
    assert.equal(dead.props.headers["x-dts-error-type"], "CanvasUnsupported");
    assert.match(String(dead.props.headers["x-dts-reason"]), /a chord needs a result backend/);
    await waitUntil("the reply", async () => (await transport.inspectQueue(reply))?.messages === 1);
    const [answer] = await drainQueue(transport, reply);
    const result = decodeResultMessage(answer.body, answer.props);
    assert.equal(result.taskId, "chord-header-1");
    assert.equal(result.status, "FAILURE");
    assert.match(JSON.stringify(result.result), /CanvasUnsupported/);
    assert.equal(ran, 0, "the task did not run");
  } finally {
    await worker.stop({ drainTimeoutMs: 1000 });
    await transport.deleteQueue(reply);
    await deleteQueues(broker.url, [q]);
  }
});
