/**
 * Headers no decoder should trust: nested 20,000 levels deep (a recursive
 * decoder overflows its stack), or of a type no client knows. RabbitMQ
 * accepts them. One such message must be dead-lettered once, with its
 * reason, and never take a worker's connection down; sent to the control
 * exchange it must not knock any worker over.
 */
import assert from "node:assert/strict";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { PIDBOX_EXCHANGE } from "../../src/protocol/celery_control_message.ts";
import { pingWorkers } from "../../src/client/inspect_workers.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName, type TransportStatus } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import {
  FieldBytes,
  fieldTable,
  nestedArrayValue,
  publishRaw,
} from "../helpers/raw_amqp_publisher.ts";
import { drainQueue, waitUntil } from "../helpers/test_kit.ts";

const DEPTH = 20_000;

function taskHeaders(id: string): Record<string, Uint8Array> {
  return {
    task: new FieldBytes().longStringValue("task_hostile").bytes(),
    id: new FieldBytes().longStringValue(id).bytes(),
    deep: nestedArrayValue(DEPTH),
  };
}

Deno.test("a task message with a header nested 20,000 deep is dead-lettered once and the worker stays connected", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("deep");
  await using transport = await openTransport(broker.url);
  const statuses: TransportStatus[] = [];
  transport.onStatus((status) => statuses.push(status));
  try {
    await using worker = await startWorker(transport, [
      testTask("task_hostile", q, (ctx) => `ok ${ctx.args[0]}`),
    ]);
    const { body } = encodeTaskMessage(createTaskMessage("task_hostile", { id: "deep-1" }));
    await publishRaw(broker.url, {
      routingKey: q,
      headersTable: fieldTable(taskHeaders("deep-1")),
      contentType: "application/json",
      correlationId: "deep-1",
      persistent: true,
      body,
    });
    await waitUntil(
      "the dead letter",
      async () => (await transport.inspectQueue(deadLetterQueueName(q)))?.messages === 1,
    );
    // The next task on the same queue still runs.
    const { outcomes } = await runDispatch(transport, [
      { task: "task_hostile", queue: q, args: [1], kwargs: {} },
    ]);
    assert.equal(outcomes[0].status, "SUCCESS");
    assert.equal(outcomes[0].result, "ok 1");
    assert.ok(worker.ready());
    assert.deepEqual(
      statuses.filter((s) => s.type !== "connected"),
      [],
      "the connection never dropped",
    );
    const [dead] = await drainQueue(transport, deadLetterQueueName(q));
    assert.equal(dead.props.headers.id, "deep-1", "the readable headers survive");
    assert.match(
      String(dead.props.headers["x-dts-reason"]),
      /header "deep" nests deeper than \d+ levels/,
    );
    assert.equal(dead.props.headers.deep, null, "the unreadable value is not carried");
    assert.deepEqual(new Uint8Array(dead.body), body, "the body is kept as sent");
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a header of a type amqplib cannot read (RabbitMQ's L) does not drop the connection", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("typel");
  await using transport = await openTransport(broker.url);
  const statuses: TransportStatus[] = [];
  transport.onStatus((status) => statuses.push(status));
  try {
    const seen: unknown[] = [];
    await using _worker = await startWorker(transport, [
      testTask("task_hostile", q, (ctx) => {
        seen.push(ctx.args);
        return "ran";
      }),
    ]);
    const { body } = encodeTaskMessage(createTaskMessage("task_hostile", { id: "type-l" }));
    const uint64 = new Uint8Array(9);
    uint64[0] = 0x4c; // 'L'
    new DataView(uint64.buffer).setBigUint64(1, 42n);
    await publishRaw(broker.url, {
      routingKey: q,
      headersTable: fieldTable({ ...taskHeaders("type-l"), deep: uint64 }),
      contentType: "application/json",
      persistent: true,
      body,
    });
    await waitUntil("the task to run", () => seen.length === 1);
    await waitUntil(
      "the queue to empty",
      async () => (await transport.inspectQueue(q))?.messages === 0,
    );
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
    assert.deepEqual(statuses.filter((s) => s.type !== "connected"), []);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a deeply nested header sent to the control exchange knocks no worker over", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("pidbox");
  await using transport = await openTransport(broker.url);
  const statuses: TransportStatus[] = [];
  transport.onStatus((status) => statuses.push(status));
  try {
    await using _a = await startWorker(transport, [testTask("task_a", q, () => 1)], {
      name: "hostile-a@test",
    });
    await publishRaw(broker.url, {
      exchange: PIDBOX_EXCHANGE,
      routingKey: "",
      headersTable: fieldTable({ deep: nestedArrayValue(DEPTH) }),
      contentType: "application/json",
      body: new TextEncoder().encode('{"method": "ping", "arguments": {}}'),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const names = await pingWorkers(transport, { timeoutMs: 1000, expected: 50 });
    assert.ok(names.includes("hostile-a@test"), `still answers ping: ${names}`);
    assert.deepEqual(statuses.filter((s) => s.type !== "connected"), []);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
