/**
 * Ctrl-C during `dts dispatch`: it stops waiting at once, reports the tasks
 * without a result as INTERRUPTED (not TIMEOUT), prints and saves the
 * partial document marked `interrupted`, and exits 130.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CliProcess } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempDir, waitUntil } from "../helpers/test_kit.ts";

Deno.test("SIGINT during dts dispatch: INTERRUPTED tasks, a partial document marked interrupted, exit 130", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queues = [ns.queue("queue_ok"), ns.queue("queue_slow")];
  await using tmp = await tempDir();
  const config = `${tmp.path}/config.yml`;
  const results = `${tmp.path}/results`;
  await Deno.writeTextFile(
    config,
    `name: interrupted
tasks:
  ok: { name: task_ok, queue: ${queues[0]} }
  slow: { name: task_slow, queue: ${queues[1]} }
dispatch:
  timeout: 60s
  jobs:
    - { task: ok, args: [1] }
    - { task: slow, kwargs: { ms: 30000 } }
`,
  );
  const plugins = ["--plugins", FIXTURE_PLUGINS.good];
  await using transport = await openTransport(broker.url);
  let replyQueue = "";
  try {
    await using worker = await spawnWorker(
      ["--task", "ok", "--task", "slow", "--concurrency", "2", "--config", config, ...plugins],
      { brokerUrl: broker.url },
    );
    await using dispatcher = new CliProcess(
      ["dispatch", "--config", config, "--output", "json", "--results-dir", results, ...plugins],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    const runId = (await dispatcher.waitFor(/"run_id":"([^"]+)"/))[1];
    replyQueue = `dts.reply.${runId}`;
    await worker.waitFor(/"Task started"[^\n]*task_slow/);
    // The dispatcher has task_ok's result once its journal does.
    await waitUntil("task_ok's result in the journal", async () => {
      const journal = await Deno.readTextFile(`${results}/dispatch_${runId}.jsonl`);
      return /"task":"task_ok"[^\n]*"type":"SUCCESS"/.test(journal);
    });
    const interruptedAt = performance.now();
    dispatcher.kill("SIGINT");
    const run = await dispatcher.finished();
    assert.equal(run.code, 130, run.stderr);
    assert.ok(performance.now() - interruptedAt < 5000, "stops waiting at once");

    const doc = JSON.parse(run.stdout);
    assert.equal(doc.interrupted, true);
    assert.match(doc.run_id, /^\d{8}_\d{6}-[0-9a-f]{6}$/);
    const [ok, slow] = doc.tasks;
    assert.deepEqual([ok.task, ok.status, ok.result], ["task_ok", "SUCCESS", {
      args: [1],
      kwargs: {},
    }]);
    assert.deepEqual([slow.task, slow.status, slow.result, slow.done_at], [
      "task_slow",
      "INTERRUPTED",
      null,
      null,
    ]);
    assert.deepEqual(slow.error, {
      type: "InterruptedError",
      message: "dispatch interrupted by SIGINT before a result arrived",
    });
    assert.deepEqual(
      [doc.summary.succeeded, doc.summary.failed, doc.summary.interrupted],
      [1, 0, 1],
    );
    const saved = [...Deno.readDirSync(results)].filter((e) => /^dispatch_results_/.test(e.name));
    assert.equal(saved.length, 1);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${results}/${saved[0].name}`)), doc);
    // Kept for `dts dispatch --resume`, which the interrupted run names.
    assert.deepEqual(await transport.inspectQueue(replyQueue), { messages: 0, consumers: 0 });
    assert.match(
      run.stderr,
      new RegExp(`"command":"dts dispatch --resume ${runId} --results-dir `),
    );
  } finally {
    await deleteQueues(broker.url, queues);
    if (replyQueue) await transport.deleteQueue(replyQueue);
  }
});

Deno.test("SIGINT during dts dispatch --cancel-on-interrupt: the running task is terminated as REVOKED, the queued one never runs", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_slow");
  await using tmp = await tempDir();
  const config = `${tmp.path}/config.yml`;
  await Deno.writeTextFile(
    config,
    `name: cancelled
tasks:
  slow: { name: task_slow, queue: ${queue} }
dispatch:
  timeout: 60s
  jobs:
    - { task: slow, kwargs: { ms: 30000 } }
    - { task: slow, kwargs: { ms: 30001 } }
`,
  );
  const plugins = ["--plugins", FIXTURE_PLUGINS.good];
  await using transport = await openTransport(broker.url);
  try {
    await using worker = await spawnWorker(
      ["--task", "slow", "--concurrency", "1", "--config", config, ...plugins],
      { brokerUrl: broker.url },
    );
    await using dispatcher = new CliProcess(
      [
        "dispatch",
        "--config",
        config,
        "--output",
        "json",
        "--no-save",
        "--cancel-on-interrupt",
        ...plugins,
      ],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    await worker.waitFor(/"Task started"[^\n]*task_slow/);
    dispatcher.kill("SIGINT");
    const run = await dispatcher.finished();
    assert.equal(run.code, 130, run.stderr);
    assert.match(
      run.stderr,
      /"msg":"Revoked the tasks of the interrupted dispatch"[^\n]*"revoked":2/,
    );
    // The running one is stopped at once, the queued one refused when its turn comes.
    await worker.waitFor(/"Task terminated: revoked"[^\n]*task_slow/, 5000);
    await worker.waitFor(/"Not running a revoked task"[^\n]*task_slow/, 5000);
    await waitUntil(
      "the queue to be empty",
      async () => (await transport.inspectQueue(queue))?.messages === 0,
      5000,
    );
    assert.doesNotMatch(worker.stderr, /"Task succeeded"/);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
