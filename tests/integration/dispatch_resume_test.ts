/**
 * A dispatcher killed outright loses nothing: results it had journaled
 * come from its journal, results that arrived while it was dead wait in
 * its reply queue, and `dts dispatch --resume RUN_ID` collects the rest and
 * reports the whole run, each task once.
 */
import assert from "node:assert/strict";
import { encodeResultMessage } from "../../src/protocol/celery_result_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempDir, waitUntil } from "../helpers/test_kit.ts";

const RUN_ID = /"run_id":"(\d{8}_\d{6}-[0-9a-f]{6})"/;

interface JournalLine {
  kind: string;
  jobs?: { id: string; task: string }[];
  event?: { type: string; id: string };
}

async function journalLines(path: string): Promise<JournalLine[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.split("\n").filter((line) => line.endsWith("}")).map((line) => JSON.parse(line));
}

async function writeConfig(dir: string, queues: string[], jobs: string): Promise<string> {
  const path = `${dir}/config.yml`;
  await Deno.writeTextFile(
    path,
    `name: resume
tasks:
  ok: { name: task_ok, queue: ${queues[0]} }
  slow: { name: task_slow, queue: ${queues[1]} }
dispatch:
  timeout: 60s
  jobs:
${jobs}`,
  );
  return path;
}

Deno.test("dts dispatch --resume after SIGKILL: every task once, from the journal or the reply queue", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queues = [ns.queue("queue_ok"), ns.queue("queue_slow")];
  await using tmp = await tempDir();
  const results = `${tmp.path}/results`;
  const config = await writeConfig(
    tmp.path,
    queues,
    `    - { task: ok, args: [1] }
    - { task: slow, kwargs: { ms: 1500 } }
    - { task: slow, kwargs: { ms: 5000 } }
`,
  );
  const plugins = ["--plugins", FIXTURE_PLUGINS.good];
  const env = { DTS_BROKER_URL: broker.url };
  await using transport = await openTransport(broker.url);
  let replyQueue = "";
  try {
    await using worker = await spawnWorker(
      ["--task", "ok", "--task", "slow", "--concurrency", "3", "--config", config, ...plugins],
      { brokerUrl: broker.url },
    );
    await using dispatcher = new CliProcess(
      ["dispatch", "--config", config, "--output", "json", "--results-dir", results, ...plugins],
      { env },
    );
    const runId = (await dispatcher.waitFor(RUN_ID))[1];
    replyQueue = `dts.reply.${runId}`;
    const journal = `${results}/dispatch_${runId}.jsonl`;
    const [header] = await journalLines(journal);
    const ids = header.jobs!.map((job) => job.id);
    assert.equal(ids.length, 3);
    await waitUntil(
      "task_ok's result in the journal",
      async () =>
        (await journalLines(journal)).some((l) =>
          l.event?.type === "SUCCESS" && l.event.id === ids[0]
        ),
    );
    dispatcher.kill("SIGKILL");
    assert.equal((await dispatcher.finished()).code, 137);

    // The reply queue outlives the dispatcher; the 1.5 s task's result lands in it.
    assert.equal((await transport.inspectQueue(replyQueue))?.consumers, 0);
    await worker.waitFor(new RegExp(`"Task succeeded"[^\\n]*${ids[1]}`));
    // As after a crash between journaling task_ok's result and acknowledging it.
    const duplicate = encodeResultMessage({
      taskId: ids[0],
      status: "SUCCESS",
      result: "a redelivered copy",
      traceback: null,
      children: [],
      dateDone: new Date().toISOString(),
    });
    await transport.publish(replyQueue, duplicate.body, duplicate.props);

    const resumed = await runCli(
      ["dispatch", "--resume", runId, "--results-dir", results, "--output", "json"],
      { env },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    const doc = JSON.parse(resumed.stdout);
    assert.equal(doc.run_id, runId);
    assert.equal(doc.name, "resume");
    assert.equal(doc.interrupted, false);
    assert.deepEqual(
      doc.tasks.map((t: { id: string }) => t.id),
      ids,
      "each task once, in send order",
    );
    assert.deepEqual(
      doc.tasks.map((t: { status: string; result: unknown }) => [t.status, t.result]),
      [
        ["SUCCESS", { args: [1], kwargs: {} }],
        ["SUCCESS", "slept 1500 ms"],
        ["SUCCESS", "slept 5000 ms"],
      ],
    );
    assert.deepEqual([doc.summary.succeeded, doc.summary.failed, doc.summary.interrupted], [
      3,
      0,
      0,
    ]);
    assert.match(resumed.stderr, /"msg":"Dispatch resumed"[^\n]*"missing":2/);
    const saved = [...Deno.readDirSync(results)].filter((e) =>
      e.name.startsWith("dispatch_results_")
    );
    assert.equal(saved.length, 1);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${results}/${saved[0].name}`)), doc);
    const lines = await journalLines(journal);
    assert.deepEqual(lines.map((l) => l.kind).filter((k) => k !== "event"), [
      "run",
      "resumed",
      "finished",
    ]);
    // Complete: nothing is left to collect, the queue is gone.
    assert.equal(await transport.inspectQueue(replyQueue), null);

    const again = await runCli(["dispatch", "--resume", runId, "--results-dir", results], { env });
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`Cannot resume run "${runId}": it finished at `));
  } finally {
    await deleteQueues(broker.url, queues);
    if (replyQueue) await transport.deleteQueue(replyQueue);
  }
});

Deno.test("dts dispatch --resume after Ctrl-C collects what the interrupted run was still waiting for", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queues = [ns.queue("queue_ok"), ns.queue("queue_slow")];
  await using tmp = await tempDir();
  const results = `${tmp.path}/results`;
  const config = await writeConfig(
    tmp.path,
    queues,
    `    - { task: slow, kwargs: { ms: 2000 } }\n`,
  );
  const plugins = ["--plugins", FIXTURE_PLUGINS.good];
  const env = { DTS_BROKER_URL: broker.url };
  let replyQueue = "";
  try {
    await using worker = await spawnWorker(["--task", "slow", "--config", config, ...plugins], {
      brokerUrl: broker.url,
    });
    await using dispatcher = new CliProcess(
      ["dispatch", "--config", config, "--output", "pretty", "--results-dir", results, ...plugins],
      { env },
    );
    const runId = (await dispatcher.waitFor(/run {6}(\d{8}_\d{6}-[0-9a-f]{6})/))[1];
    replyQueue = `dts.reply.${runId}`;
    await worker.waitFor(/"Task started"[^\n]*task_slow/);
    dispatcher.kill("SIGINT");
    const interrupted = await dispatcher.finished();
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.match(interrupted.stdout, /INTERRUPTED/);
    assert.ok(
      interrupted.stdout.includes(
        `Collect the missing results later with: dts dispatch --resume ${runId} --results-dir ${results}\n`,
      ),
      interrupted.stdout,
    );

    const resumed = await runCli(
      [
        "dispatch",
        "--resume",
        runId,
        "--results-dir",
        results,
        "--output",
        "json",
        "--timeout",
        "20s",
      ],
      { env },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    const doc = JSON.parse(resumed.stdout);
    assert.equal(doc.interrupted, false);
    assert.deepEqual(
      doc.tasks.map((t: { status: string; result: unknown }) => [t.status, t.result]),
      [
        ["SUCCESS", "slept 2000 ms"],
      ],
    );
    // The interrupted run's partial document and the complete one.
    const saved = [...Deno.readDirSync(results)].filter((e) =>
      e.name.startsWith("dispatch_results_")
    );
    assert.equal(saved.length, 2);
  } finally {
    await deleteQueues(broker.url, queues);
    await using transport = await openTransport(broker.url);
    if (replyQueue) await transport.deleteQueue(replyQueue);
  }
});

Deno.test("dts dispatch --resume exits 2 with one line for an unknown or malformed run id", async () => {
  await using tmp = await tempDir();
  const unknown = await runCli(
    ["dispatch", "--resume", "20261128_100000-4f09a2", "--results-dir", tmp.path],
    { env: { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/" } },
  );
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr.trim().split("\n").filter((l) => l.startsWith("dts:")).join("\n"),
    `dts: Cannot resume run "20261128_100000-4f09a2": no journal "${tmp.path}/dispatch_20261128_100000-4f09a2.jsonl" (unknown run id; a run's journal is written beside its results, so give the --results-dir the run used; runs with --no-save keep none)`,
  );
  assert.doesNotMatch(unknown.stderr, /\n\s+at /, "no stack trace");

  const malformed = await runCli(["dispatch", "--resume", "../../etc/passwd"]);
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /Cannot resume run "\.\.\/\.\.\/etc\/passwd": not a run id/);
});

Deno.test("dts dispatch --resume exits 2 and says so when the run's reply queue is gone", async () => {
  await using broker = await testBroker();
  await using tmp = await tempDir();
  const runId = "20261128_100000-0dead0";
  const startedAt = new Date(Date.now() - 3 * 3_600_000);
  await Deno.writeTextFile(
    `${tmp.path}/dispatch_${runId}.jsonl`,
    JSON.stringify({
      kind: "run",
      version: 1,
      run_id: runId,
      name: "long gone",
      broker: "amqp://guest:***@127.0.0.1:5672/",
      config: null,
      started_at: startedAt.toISOString(),
      timeout_ms: 60_000,
      reply_queue: `dts.reply.${runId}`,
      reply_queue_expires_ms: 3_660_000,
      expected_workers: null,
      workers: [],
      jobs: [{ id: "t-1", task: "task_a", queue: "queue_a" }],
    }) + "\n",
  );
  // The journal was last written three hours ago.
  await Deno.utime(`${tmp.path}/dispatch_${runId}.jsonl`, startedAt, startedAt);
  const run = await runCli(["dispatch", "--resume", runId, "--results-dir", tmp.path], {
    env: { DTS_BROKER_URL: broker.url },
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(
      `dts: Cannot resume run "${runId}": its reply queue "dts\\.reply\\.${runId}" no longer exists: it expired \\(the broker deletes it 1 h 1 min after the dispatcher stops; .*\\); the results of the 1 of 1 tasks not in the journal are lost`,
    ),
  );
});
