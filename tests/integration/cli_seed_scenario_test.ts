/**
 * The seed scenario as a user runs it: two spawned workers (`dts worker
 * --task a`, `--task b`) and `dts dispatch --output json`, on RabbitMQ.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { tempDir } from "../helpers/test_kit.ts";

/** Write a config whose queues belong to this test only. */
async function namespacedConfig(
  dir: string,
  ns: { queue(name: string): string },
  extra = "",
): Promise<string> {
  const path = `${dir}/config.yml`;
  await Deno.writeTextFile(
    path,
    `name: Basic two-task execution test
tasks:
  a: { name: task_a, queue: ${ns.queue("queue_a")} }
  b: { name: task_b, queue: ${ns.queue("queue_b")} }
dispatch:
  timeout: 20s
  jobs:
    - task: a
    - task: b
${extra}`,
  );
  return path;
}

Deno.test("dts worker + dts dispatch: both tasks run concurrently on their own workers", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const queues = [ns.queue("queue_a"), ns.queue("queue_b")];
  try {
    const config = await namespacedConfig(dir, ns);
    const env = { DTS_BROKER_URL: broker.url };
    await using workerA = new CliProcess(
      ["worker", "--task", "a", "--config", config, "--name", "worker-a@test"],
      { env },
    );
    await using workerB = new CliProcess(
      ["worker", "--task", "b", "--config", config, "--name", "worker-b@test"],
      { env },
    );
    await workerA.waitFor(/Worker started/);
    await workerB.waitFor(/Worker started/);

    const run = await runCli(
      ["dispatch", "--config", config, "--output", "json", "--results-dir", `${dir}/results`],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.name, "Basic two-task execution test");
    assert.match(doc.broker, /^amqp:\/\//);
    assert.doesNotMatch(doc.broker, /guest:guest/);
    // Every worker on the broker answers the ping; ours must be among them.
    assert.ok(doc.workers.includes("worker-a@test") && doc.workers.includes("worker-b@test"));
    assert.equal(doc.tasks.length, 2);
    const [a, b] = doc.tasks;
    assert.deepEqual(
      [a.task, a.queue, a.status, a.result, a.worker, a.retries, a.error],
      ["task_a", queues[0], "SUCCESS", "Hello from Task A", "worker-a@test", 0, null],
    );
    assert.deepEqual(
      [b.task, b.queue, b.status, b.result, b.worker, b.retries, b.error],
      ["task_b", queues[1], "SUCCESS", "Hello from Task B", "worker-b@test", 0, null],
    );
    assert.ok(
      a.runtime_ms >= 95 && b.runtime_ms >= 195,
      JSON.stringify([a.runtime_ms, b.runtime_ms]),
    );
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    // Concurrent: the whole dispatch took less than the two tasks one after another.
    assert.ok(doc.total_ms < doc.sequential_ms + 100, `${doc.total_ms} vs ${doc.sequential_ms}`);
    assert.ok(doc.total_ms >= b.runtime_ms);
    assert.equal(doc.sequential_ms, Math.round((a.runtime_ms + b.runtime_ms) * 10) / 10);
    assert.deepEqual(
      [doc.summary.succeeded, doc.summary.failed, doc.summary.retries],
      [2, 0, 0],
    );

    const saved = [...Deno.readDirSync(`${dir}/results`)].map((e) => e.name).sort();
    // The results, and beside them the run's journal (kept: the run's event log).
    assert.equal(saved.length, 2, saved.join(", "));
    assert.equal(saved[0], `dispatch_${doc.run_id}.jsonl`);
    saved.shift();
    assert.match(saved[0], /^dispatch_results_\d{8}_\d{6}\.json$/);
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(`${dir}/results/${saved[0]}`)),
      doc,
    );

    // Graceful stop: SIGTERM drains and exits 0.
    workerA.kill("SIGTERM");
    workerB.kill("SIGTERM");
    assert.equal((await workerA.finished()).code, 0);
    assert.equal((await workerB.finished()).code, 0);
    for (const line of workerA.stderr.trim().split("\n")) {
      const entry = JSON.parse(line);
      assert.ok(entry.ts && entry.level && entry.msg, line);
      assert.doesNotMatch(line, /guest:guest/);
    }
  } finally {
    await deleteQueues(broker.url, queues);
  }
});

Deno.test("dts dispatch exits 1 and reports FAILURE when a task fails for good", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const queue = ns.queue("queue_bad");
  try {
    const config = `${dir}/config.yml`;
    await Deno.writeTextFile(
      config,
      `name: failing
tasks:
  bad: { name: task_non_retryable, queue: ${queue} }
dispatch:
  timeout: 20s
  jobs: [ { task: bad, args: [1, "x"] } ]
`,
    );
    const env = { DTS_BROKER_URL: broker.url };
    const plugins = ["--plugins", "tests/fixtures/plugins/good"];
    await using worker = new CliProcess(
      ["worker", "--task", "bad", "--config", config, ...plugins],
      {
        env,
      },
    );
    await worker.waitFor(/Worker started/);
    const run = await runCli([
      "dispatch",
      "--config",
      config,
      "--output",
      "json",
      "--no-save",
      ...plugins,
    ], {
      env,
    });
    assert.equal(run.code, 1, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.tasks[0].status, "FAILURE");
    assert.deepEqual(doc.tasks[0].error, {
      type: "Error",
      message: "bad input: not worth retrying",
    });
    assert.equal(doc.tasks[0].retries, 0);
    assert.equal(doc.summary.failed, 1);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("dts dispatch exits 3 within seconds when the broker is unreachable, password masked", async () => {
  const started = Date.now();
  const run = await runCli(["dispatch", "--no-save", "--output", "json"], {
    env: { DTS_BROKER_URL: "amqp://guest:s3cret@127.0.0.1:1/" },
  });
  assert.equal(run.code, 3, run.stderr);
  assert.ok(Date.now() - started < 15_000);
  assert.match(run.stderr, /amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
  assert.doesNotMatch(run.stderr + run.stdout, /s3cret/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
});

Deno.test("dts exits 2 on bad usage and on a bad config, without a stack trace", async () => {
  const unknown = await runCli(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);

  const missing = await runCli(["worker"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '-t, --task <task>' not specified/);

  const badConfig = await runCli(["dispatch", "--config", "no/such.yml", "--no-save"]);
  assert.equal(badConfig.code, 2);
  assert.match(badConfig.stderr, /Cannot load config "no\/such\.yml"/);
  assert.doesNotMatch(badConfig.stderr, /\n\s+at /);

  const unknownTask = await runCli(["worker", "--task", "zzz"], {
    env: { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/" },
  });
  assert.equal(unknownTask.code, 2);
  assert.match(unknownTask.stderr, /Cannot find task "zzz"/);
});

Deno.test("dts dispatch exits 130 on SIGINT while waiting for results", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const queue = ns.queue("queue_nobody");
  try {
    const config = `${dir}/config.yml`;
    await Deno.writeTextFile(
      config,
      `name: nobody listens\ntasks:\n  n: { name: task_n, queue: ${queue} }\ndispatch:\n  timeout: 60s\n  jobs: [ { task: n } ]\n`,
    );
    await using dispatcher = new CliProcess(
      ["dispatch", "--config", config, "--output", "pretty", "--no-save"],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    await dispatcher.waitFor(/SENT/);
    dispatcher.kill("SIGINT");
    const result = await dispatcher.finished();
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stdout, /INTERRUPTED/);
    assert.doesNotMatch(result.stdout, /TIMEOUT/);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("dts demo runs workers and a dispatch in one process on memory://", async () => {
  const run = await runCli(["demo", "--output", "json", "--no-save"]);
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse(run.stdout);
  assert.equal(doc.broker, "memory://");
  assert.deepEqual(doc.tasks.map((t: { result: string }) => t.result), [
    "Hello from Task A",
    "Hello from Task B",
  ]);
  assert.deepEqual(doc.workers.map((w: string) => w.split("@")[0]), ["worker-a", "worker-b"]);
});

Deno.test("dts version and --help answer without a broker", async () => {
  const version = await runCli(["version", "--json"]);
  assert.equal(version.code, 0);
  const info = JSON.parse(version.stdout);
  assert.match(info.dts, /^\d+\.\d+\.\d+$/);
  assert.match(info.deno, /^2\./);
  for (const command of ["worker", "dispatch", "status", "demo", "version"]) {
    const help = await runCli([command, "--help"]);
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, /Examples:/, command);
  }
  const check = await runCli(["config", "check", "--help"]);
  assert.match(check.stdout, /Examples:/);
});

Deno.test("dts dispatch reports TIMEOUT and exits 1 when no result comes within --timeout", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using tmp = await tempDir();
  const dir = tmp.path;
  const queue = ns.queue("queue_nobody");
  try {
    const config = `${dir}/config.yml`;
    await Deno.writeTextFile(
      config,
      `name: nobody listens\ntasks:\n  n: { name: task_n, queue: ${queue} }\ndispatch:\n  jobs: [ { task: n } ]\n`,
    );
    const env = { DTS_BROKER_URL: broker.url };
    const run = await runCli(
      ["dispatch", "--config", config, "--output", "json", "--no-save", "--timeout", "300ms"],
      { env },
    );
    assert.equal(run.code, 1, run.stderr);
    const [task] = JSON.parse(run.stdout).tasks;
    assert.equal(task.status, "TIMEOUT");
    assert.deepEqual(task.error, { type: "TimeoutError", message: "No result within 300 ms" });
    // The task itself is not lost: it still waits in its queue for a worker.
    await using transport = await openTransport(broker.url);
    assert.equal((await transport.inspectQueue(queue))?.messages, 1);

    const bad = await runCli(["dispatch", "--config", config, "--timeout", "soon"], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /option '--timeout <time>' argument 'soon' is invalid/);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
