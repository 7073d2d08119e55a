/**
 * Celery canvas from a real Celery 5.2 client (python3-celery) on dts
 * workers: a chain of 3 across two dts workers, a group, a chain ending in a
 * group, a link, an error link, and a mixed chain whose middle step runs on
 * a Celery worker. Links land in a queue nobody consumes, where the test
 * reads them as a Celery worker would have sent them.
 */
import assert from "node:assert/strict";
import { decodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CeleryProcess, requireCelery, startCeleryWorker } from "../helpers/celery.ts";
import { startWorker, testTask } from "../helpers/in_process.ts";
import { drainQueue, waitUntil } from "../helpers/test_kit.ts";

const noRetry = { maxRetries: 0, backoffMs: 50, factor: 2, maxBackoffMs: 1000, jitter: false };

Deno.test("Celery canvas from a Celery client on dts workers: chain, broken chain, group, chain of a group, link, link_error, mixed", async () => {
  await requireCelery();
  await using broker = await testBroker();
  const ns = testNamespace();
  const [a, b, c, sink] = ["canvas_a", "canvas_b", "canvas_celery", "canvas_sink"].map((q) =>
    ns.queue(q)
  );
  await using transport = await openTransport(broker.url);
  await using workerA = await openTransport(broker.url);
  await using workerB = await openTransport(broker.url);
  try {
    await transport.assertTaskQueue(sink);
    const num = (x: unknown) => x as number;
    await using _a = await startWorker(workerA, [
      testTask("task_double", a, (ctx) => num(ctx.args[0]) * 2),
      testTask("task_boom", a, () => {
        throw Object.assign(new TypeError("boom"), { retryable: false });
      }, { retry: noRetry }),
      testTask("task_wrap", a, (ctx) => ({ wrapped: ctx.args[0] })),
    ], { concurrency: 4, name: "dts-a@canvas" });
    await using _b = await startWorker(workerB, [
      testTask("task_inc", b, (ctx) => num(ctx.args[0]) + 1),
    ], { concurrency: 4, name: "dts-b@canvas" });
    const celeryOptions = { brokerUrl: broker.url, queues: [a, b, c, sink] };
    await using _celery = await startCeleryWorker({
      ...celeryOptions,
      queues: [c],
      prefix: ns.prefix,
    });

    const run = async (workflow: string) => {
      await using client = new CeleryProcess([
        "celery_canvas.py",
        JSON.stringify({ workflow, a, b, celery: c, sink, timeout: 20 }),
      ], celeryOptions);
      const done = await client.finished();
      assert.equal(done.code, 0, `${workflow}: ${done.stderr}`);
      return JSON.parse(done.stdout.trim().split("\n").at(-1)!) as {
        id: string;
        value?: unknown;
        error?: { type: string; message: string };
      };
    };

    const matrix: string[] = [];
    const chain = await run("chain");
    assert.equal(chain.value, 6, JSON.stringify(chain)); // ((1 * 2) + 1) * 2
    matrix.push("chain of 3 across two dts workers: 6");
    const group = await run("group");
    assert.deepEqual(group.value, [2, 3]);
    matrix.push("group: [2, 3]");
    const chainGroup = await run("chain_group");
    assert.deepEqual(chainGroup.value, [7, 12]); // 3 * 2 = 6, then 6 + 1 and 6 * 2
    matrix.push("chain ending in a group: [7, 12]");

    const broken = await run("chain_fail");
    assert.equal(broken.error?.type, "TypeError", JSON.stringify(broken));
    // Celery's get() re-raises whichever failure it reads first: task_boom's own, or the one the
    // worker owes the chain's last step (the same error, naming where the chain broke).
    assert.match(
      broken.error?.message ?? "",
      /^boom( \(in task_boom\[[0-9a-f-]+\], earlier in the chain\))?$/,
    );
    matrix.push(
      "chain broken in its middle: the client got the TypeError (its own or the one owed to the last step), no hang",
    );

    const link = await run("link");
    assert.equal(link.value, 8);
    await waitUntil(
      "the link in the sink",
      async () => (await transport.inspectQueue(sink))?.messages === 1,
    );
    const [linked] = (await drainQueue(transport, sink)).map((d) =>
      decodeTaskMessage(d.body, d.props)
    );
    assert.deepEqual([linked.task, linked.args, linked.parentId, linked.rootId], [
      "task_inc",
      [8, 100],
      link.id,
      link.id,
    ]);
    matrix.push("link: sent with the result first, parent and root ids set");

    const failed = await run("link_error");
    assert.equal(failed.error?.type, "TypeError", JSON.stringify(failed));
    await waitUntil(
      "the error link in the sink",
      async () => (await transport.inspectQueue(sink))?.messages === 1,
    );
    const [errback] = (await drainQueue(transport, sink)).map((d) =>
      decodeTaskMessage(d.body, d.props)
    );
    assert.deepEqual([errback.task, errback.args], ["task_inc", [failed.id]]);
    matrix.push("link_error: sent with the failed task's id; the client got TypeError");

    const mixed = await run("mixed");
    assert.deepEqual(
      mixed.value,
      { wrapped: { by: "celery", args: [10], kwargs: {} } },
      JSON.stringify(mixed),
    );
    matrix.push(
      "mixed chain dts → Celery → dts: the Celery worker's result reached the last dts step",
    );
    console.log(`canvas matrix:\n  ${matrix.join("\n  ")}`);
  } finally {
    await deleteQueues(broker.url, [a, b, c, sink]);
  }
});
