/**
 * dts sends to a real Celery 5.2 worker (python3-celery, a subprocess, started
 * once for this file): the dispatcher and `dts dispatch` report its results,
 * failures and Celery's own retries; `dts status` sees it; and a Celery and a
 * dts worker share one queue with every task done exactly once.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { requireCelery, startCeleryWorker } from "../helpers/celery.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { runCli } from "../helpers/run_cli.ts";

const MIXED_TASKS = 40;

Deno.test("a Celery 5.2 worker serves dts dispatches and shares a queue with a dts worker", async (t) => {
  await requireCelery();
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  const shared = ns.queue("queue_shared");
  await using transport = await openTransport(broker.url);
  try {
    await using celery = await startCeleryWorker({
      brokerUrl: broker.url,
      queues: [queue, shared],
      prefix: ns.prefix,
    });

    await t.step(
      "the dispatcher reports a Celery worker's result, failure and retries",
      async () => {
        const { events, outcomes } = await runDispatch(transport, [
          { task: "task_a", queue, args: [1, "two"], kwargs: { x: 3 } },
          { task: "task_fail", queue, args: [], kwargs: { message: "no such thing" } },
          { task: "task_retry", queue, args: [], kwargs: { times: 2 } },
        ], { timeoutMs: 20_000 });
        const [value, failure, retried] = outcomes;
        assert.deepEqual(
          [value.status, value.result, value.retries, value.worker],
          ["SUCCESS", { by: "celery", args: [1, "two"], kwargs: { x: 3 } }, 0, celery.name],
        );
        assert.deepEqual([failure.status, failure.error?.type, failure.error?.message], [
          "FAILURE",
          "ValueError",
          "no such thing",
        ]);
        assert.equal(failure.error?.module, "builtins");
        assert.match(failure.error?.stack ?? "", /Traceback[\s\S]*ValueError: no such thing/);
        assert.deepEqual(
          [retried.status, retried.result, retried.retries],
          ["SUCCESS", { by: "celery", retries: 2 }, 2],
        );
        const retries = events.filter((e) => e.type === "RETRY" && e.id === retried.id);
        assert.deepEqual(retries.map((e) => e.type === "RETRY" && e.retries), [1, 2]);
        assert.deepEqual(
          retries.map((e) => e.type === "RETRY" && e.error?.message),
          ["transient 0", "transient 1"],
        );
        assert.equal((await transport.inspectQueue(queue))?.messages, 0);
      },
    );

    await t.step(
      "dts dispatch prints a Celery worker's outcomes and exits 1 for its failure",
      async () => {
        const config = await Deno.makeTempFile({ prefix: "dts_celery_", suffix: ".yml" });
        try {
          await Deno.writeTextFile(
            config,
            [
              "name: Celery worker behind dts dispatch",
              "tasks:",
              `  a: { name: task_a, queue: ${queue} }`,
              `  fail: { name: task_fail, queue: ${shared} }`,
              "dispatch:",
              "  timeout: 20s",
              "  jobs:",
              "    - { task: a, args: [5] }",
              "    - { task: fail, kwargs: { message: from the CLI } }",
              "",
            ].join("\n"),
          );
          const run = await runCli([
            "dispatch",
            "--config",
            config,
            "--broker",
            broker.url,
            "--output",
            "json",
            "--no-save",
          ]);
          assert.equal(run.code, 1, run.stderr);
          const doc = JSON.parse(run.stdout);
          const rows = doc.tasks.map((
            r: { task: string; status: string; result: unknown; error: unknown; worker: string },
          ) => [r.task, r.status, r.result, r.error, r.worker]);
          assert.deepEqual(rows, [
            ["task_a", "SUCCESS", { by: "celery", args: [5], kwargs: {} }, null, celery.name],
            [
              "task_fail",
              "FAILURE",
              null,
              { type: "ValueError", message: "from the CLI" },
              celery.name,
            ],
          ]);
          assert.deepEqual([doc.summary.succeeded, doc.summary.failed], [1, 1]);
        } finally {
          await Deno.remove(config);
        }
      },
    );

    await t.step("dts status lists the Celery worker among the live workers", async () => {
      const run = await runCli(["status", "--json", "--broker", broker.url, "--timeout", "1s"]);
      assert.equal(run.code, 0, run.stderr);
      const { workers } = JSON.parse(run.stdout);
      const found = workers.find((w: { name: string }) => w.name === celery.name);
      assert.ok(found, `${celery.name} not in ${JSON.stringify(workers)}`);
      assert.equal(typeof found.pid, "number");
      assert.equal(typeof found.uptime_s, "number");
    });

    await t.step(
      "Celery and dts workers on one queue: every task is done exactly once",
      async () => {
        const dtsRan: string[] = [];
        const dtsTask = testTask("task_a", shared, async (ctx) => {
          dtsRan.push(ctx.id);
          await new Promise((resolve) => setTimeout(resolve, 20));
          return { by: "dts", args: ctx.args, kwargs: ctx.kwargs };
        });
        const dtsName = `dts-${ns.prefix}@test`;
        const before = new Set(celery.succeededIds());
        let celeryRan: string[] = [];
        {
          await using _worker = await startWorker(transport, [dtsTask], { name: dtsName });
          const jobs = Array.from({ length: MIXED_TASKS }, (_, n) => ({
            task: "task_a",
            queue: shared,
            args: [n],
            kwargs: { sleep_s: 0.02 },
          }));
          const { events, outcomes } = await runDispatch(transport, jobs, { timeoutMs: 30_000 });

          assert.equal(outcomes.length, MIXED_TASKS);
          assert.ok(outcomes.every((o) => o.status === "SUCCESS"), JSON.stringify(outcomes));
          assert.deepEqual(outcomes.map((o) => (o.result as { args: number[] }).args[0]), [
            ...jobs.keys(),
          ]);
          const finals = events.filter((e) => e.type === "SUCCESS" || e.type === "FAILURE");
          assert.equal(new Set(finals.map((e) => e.id)).size, MIXED_TASKS);
          assert.equal(finals.length, MIXED_TASKS);

          // Celery logs "succeeded" just after publishing the result: wait for the last lines.
          const deadline = Date.now() + 5000;
          do {
            celeryRan = celery.succeededIds().filter((id) => !before.has(id));
            if (celeryRan.length + dtsRan.length >= MIXED_TASKS) break;
            await new Promise((resolve) => setTimeout(resolve, 50));
          } while (Date.now() < deadline);

          const byCelery = outcomes.filter((o) => (o.result as { by: string }).by === "celery");
          const byDts = outcomes.filter((o) => (o.result as { by: string }).by === "dts");
          assert.ok(
            byCelery.length > 0 && byDts.length > 0,
            `celery ${byCelery.length}, dts ${byDts.length}`,
          );
          assert.ok(byCelery.every((o) => o.worker === celery.name));
          assert.ok(byDts.every((o) => o.worker === dtsName));
          // Exactly once: each side ran its own tasks once, and no task ran on both sides.
          assert.deepEqual([...celeryRan].sort(), byCelery.map((o) => o.id).sort());
          assert.deepEqual([...dtsRan].sort(), byDts.map((o) => o.id).sort());
        }
        assert.deepEqual(await transport.inspectQueue(shared), { messages: 0, consumers: 1 });
      },
    );
  } finally {
    await deleteQueues(broker.url, [queue, shared]);
  }
});
