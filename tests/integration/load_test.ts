/**
 * `dts load`: a load test through a real worker prints the SPEC document;
 * senders also work against a queue a worker declared as quorum.
 */
import assert from "node:assert/strict";
import { runLoad } from "../../src/load/load_runner.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { testLogger, testTask } from "../helpers/in_process.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { tempDir, waitUntil } from "../helpers/test_kit.ts";

Deno.test("dts load --json sends the tasks through a worker and reports throughput and latency", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_ok");
  await using tmp = await tempDir();
  const dir = tmp.path;
  try {
    const config = `${dir}/config.yml`;
    await Deno.writeTextFile(
      config,
      `name: load\ntasks:\n  ok: { name: task_ok, queue: ${queue} }\nworker: { concurrency: 8 }\n`,
    );
    const env = { DTS_BROKER_URL: broker.url, DTS_LOG_LEVEL: "warn" };
    const plugins = ["--plugins", "tests/fixtures/plugins/good"];
    await using worker = new CliProcess(
      ["worker", "--task", "ok", "--config", config, ...plugins],
      {
        env: { ...env, DTS_LOG_LEVEL: "info" },
      },
    );
    await worker.waitFor(/Worker started/);
    const report = `${dir}/load.html`;
    const run = await runCli(
      [
        "load",
        "--task",
        "ok",
        "--count",
        "200",
        "--concurrency",
        "20",
        "--json",
        "--report",
        report,
        "--config",
        config,
        ...plugins,
      ],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(Object.keys(doc), [
      "task",
      "sent",
      "succeeded",
      "failed",
      "timed_out",
      "interrupted",
      "duration_s",
      "throughput_per_s",
      "latency_ms",
    ]);
    assert.deepEqual([doc.task, doc.sent, doc.succeeded, doc.failed, doc.timed_out], [
      "task_ok",
      200,
      200,
      0,
      0,
    ]);
    assert.ok(doc.throughput_per_s > 0);
    const l = doc.latency_ms;
    assert.ok(0 < l.p50 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
    assert.match(await Deno.readTextFile(report), /200/);
    await using transport = await openTransport(broker.url);
    assert.deepEqual(await transport.inspectQueue(queue), { messages: 0, consumers: 1 });
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("dts load exits 130 on SIGINT and counts tasks in flight as interrupted, not timed out", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_nobody");
  await using tmp = await tempDir();
  try {
    const config = `${tmp.path}/config.yml`;
    await Deno.writeTextFile(
      config,
      `name: load\ntasks:\n  n: { name: task_n, queue: ${queue} }\ndispatch: { timeout: 60s }\n`,
    );
    await using load = new CliProcess(
      ["load", "--task", "n", "--count", "3", "--json", "--config", config],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    await using transport = await openTransport(broker.url);
    await waitUntil(
      "the 3 tasks in their queue",
      async () => (await transport.inspectQueue(queue))?.messages === 3,
    );
    load.kill("SIGINT");
    const run = await load.finished();
    assert.equal(run.code, 130, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(
      [doc.sent, doc.succeeded, doc.failed, doc.timed_out, doc.interrupted],
      [3, 0, 0, 0, 3],
    );
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("dts load without --count or --duration is a usage error", async () => {
  const run = await runCli(["load", "--task", "a"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /give --count N or --duration S/);
});

Deno.test("runLoad() works against a task queue a worker declared as quorum", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_q");
  await using transport = await openTransport(broker.url);
  try {
    const worker = new Worker({
      transport,
      tasks: [testTask("task_q", queue, () => "ok")],
      name: "q@test",
      logger: testLogger(),
      queueType: "quorum",
    });
    await worker.start();
    try {
      const report = await runLoad({ transport, task: "task_q", queue, count: 10, concurrency: 5 });
      assert.equal(report.succeeded, 10);
    } finally {
      await worker.stop({ drainTimeoutMs: 1000 });
    }
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
