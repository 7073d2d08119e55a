/**
 * Bad input never stops a worker: each kind is dead-lettered with its reason
 * and logged, and the next good task still runs.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log/logger.ts";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch, testTask } from "../helpers/in_process.ts";
import { drainQueue, waitUntil } from "../helpers/test_kit.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

Deno.test("Worker dead-letters not-JSON, not-v2, pickle, oversized and unknown-task messages and keeps serving", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("malformed");
  await using transport = await openTransport(broker.url);
  const logs: Record<string, unknown>[] = [];
  const worker = new Worker({
    transport,
    tasks: [testTask("task_good", q, (ctx) => `good ${ctx.args[0]}`)],
    name: "worker-malformed@test",
    logger: createLogger({
      format: "json",
      level: "debug",
      write: (line) => logs.push(JSON.parse(line)),
    }),
    maxMessageBytes: 2000,
  });
  try {
    await worker.start();
    const good = (id: string, args: unknown[] = []) =>
      encodeTaskMessage(createTaskMessage("task_good", { id, args }));
    const v2 = good("oversized", ["x".repeat(3000)]);
    const json = { contentType: "application/json", contentEncoding: "utf-8", persistent: true };
    const inputs = [
      {
        kind: "not-json",
        body: utf8("{not json"),
        props: { ...json, headers: { id: "not-json" } },
      },
      { kind: "not-v2", body: utf8('{"hello": 1}'), props: { ...json, headers: { id: "not-v2" } } },
      {
        kind: "pickle",
        body: utf8("\x80\x04\x95"),
        props: {
          contentType: "application/x-python-serialize",
          persistent: true,
          headers: { id: "pickle", task: "task_good" },
        },
      },
      { kind: "oversized", body: v2.body, props: v2.props },
    ];
    for (const input of inputs) await transport.publish(q, input.body, input.props);
    await waitUntil(
      "four dead letters",
      async () => (await transport.inspectQueue(deadLetterQueueName(q)))?.messages === 4,
    );

    // Then an unknown task and a good one, through the dispatcher.
    const { outcomes } = await runDispatch(transport, [
      { task: "task_unknown", queue: q, args: [], kwargs: {} },
      { task: "task_good", queue: q, args: [7], kwargs: {} },
    ]);
    const byTask = new Map(outcomes.map((o) => [o.task, o]));
    assert.equal(byTask.get("task_good")?.status, "SUCCESS");
    assert.equal(byTask.get("task_good")?.result, "good 7");
    assert.equal(byTask.get("task_unknown")?.status, "FAILURE");
    assert.equal(byTask.get("task_unknown")?.error?.type, "NotRegistered");

    const dead = await drainQueue(transport, deadLetterQueueName(q));
    const reasons = new Map(
      dead.map((d) => [
        String(d.props.headers.task === "task_unknown" ? "unknown" : d.props.headers.id),
        d.props.headers,
      ]),
    );
    assert.equal(dead.length, 5);
    assert.match(String(reasons.get("not-json")?.["x-dts-reason"]), /not valid JSON/);
    assert.match(String(reasons.get("not-v2")?.["x-dts-reason"]), /Cannot decode task message/);
    assert.match(
      String(reasons.get("pickle")?.["x-dts-reason"]),
      /x-python-serialize.*not supported/,
    );
    assert.match(
      String(reasons.get("oversized")?.["x-dts-reason"]),
      /over the limit of 2000 bytes/,
    );
    assert.match(
      String(reasons.get("unknown")?.["x-dts-reason"]),
      /"task_unknown" is not registered/,
    );
    for (const [kind, headers] of reasons) {
      assert.equal(headers["x-dts-original-queue"], q, kind);
      assert.ok(typeof headers["x-dts-error-message"] === "string", kind);
      assert.ok(typeof headers["x-dts-dead-at"] === "string", kind);
      assert.equal(
        headers["x-dts-error-type"],
        kind === "unknown" ? "NotRegistered" : "ProtocolError",
        kind,
      );
    }
    const logged = logs.filter((l) => /^Dead-lettering/.test(String(l.msg)));
    assert.equal(logged.filter((l) => l.msg === "Dead-lettering a malformed message").length, 4);
    assert.equal(logged.filter((l) => /unknown task/.test(String(l.msg))).length, 1);
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
    assert.ok(worker.ready(), "the worker is still consuming");
  } finally {
    await worker.stop({ drainTimeoutMs: 1000 });
    await deleteQueues(broker.url, [q]);
  }
});
