/**
 * Dependent jobs in a dispatch, on RabbitMQ with real workers: build → test
 * ×10 (each given build's result) → report (given the ten results); a build
 * that fails skips the rest at once; `on_failure: continue`; and a worker
 * killed in the middle of the fan-out.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig, tempDir } from "../helpers/test_kit.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import type { ResultsDocument, ResultsTask } from "../../src/report/results_document.ts";

interface Setup {
  config: string;
  queues: string[];
  prefix: string;
}

async function configFile(
  ns: ReturnType<typeof testNamespace>,
  jobs: string[],
): Promise<{ path: string; queues: string[] } & AsyncDisposable> {
  const queues = ["build", "check", "report"].map((key) => ns.queue(key));
  const file = await tempConfig(
    [
      "tasks:",
      `  build: { name: task_build, queue: ${queues[0]} }`,
      `  check: { name: task_check, queue: ${queues[1]} }`,
      `  report: { name: task_report, queue: ${queues[2]} }`,
      "dispatch:",
      "  timeout: 30s",
      "  jobs:",
      ...jobs.map((job) => `    - ${job}`),
      "",
    ].join("\n"),
  );
  return Object.assign(file, { queues });
}

/** One worker for build and report, and `checkers` workers for the tests. */
async function startWorkers(
  setup: Setup,
  brokerUrl: string,
  checkers: number,
  checkConcurrency = 2,
): Promise<AsyncDisposableStack & { checkWorkers: Awaited<ReturnType<typeof spawnWorker>>[] }> {
  const stack = new AsyncDisposableStack();
  const common = ["--config", setup.config, "--plugins", FIXTURE_PLUGINS.workflow];
  const main = await spawnWorker(
    ["--task", "build", "--task", "report", "--name", `main-${setup.prefix}@h`, ...common],
    { brokerUrl },
  );
  stack.use(main);
  const checkWorkers = [];
  for (let i = 0; i < checkers; i++) {
    const worker = await spawnWorker(
      [
        "--task",
        "check",
        "--concurrency",
        String(checkConcurrency),
        "--name",
        `check${i}-${setup.prefix}@h`,
        ...common,
      ],
      { brokerUrl },
    );
    stack.use(worker);
    checkWorkers.push(worker);
  }
  return Object.assign(stack, { checkWorkers });
}

function byJob(doc: ResultsDocument): Record<string, ResultsTask[]> {
  const jobs: Record<string, ResultsTask[]> = {};
  for (const task of doc.tasks) (jobs[task.job ?? "-"] ??= []).push(task);
  return jobs;
}

const EXAMPLE = [
  "{ id: build, task: build }",
  "{ id: test, task: check, after: [build], count: 10, args_from: build }",
  "{ id: report, task: report, after: [test], args_from: test }",
];

Deno.test("dts dispatch runs build → 10 tests → report in order, passing results along", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using config = await configFile(ns, EXAMPLE);
  await using results = await tempDir();
  const env = { DTS_BROKER_URL: broker.url };
  try {
    await using _workers = await startWorkers(
      { config: config.path, queues: config.queues, prefix: ns.prefix },
      broker.url,
      2,
    );
    const pretty = await runCli(
      ["dispatch", "--config", config.path, "--output", "pretty", "--no-save"],
      { env },
    );
    assert.equal(pretty.code, 0, pretty.stdout + pretty.stderr);
    // The live view: the graph in the header, each job's moves, and their end.
    assert.match(
      pretty.stdout,
      /jobs +build \(task_build\)\n +test \(task_check ×10\) after build/,
    );
    assert.match(pretty.stdout, /JOB +test +running: after build/);
    assert.match(pretty.stdout, /JOB +test +succeeded: 10 of 10 succeeded/);
    assert.match(pretty.stdout, /jobs +build ✓ 1\/1 · test ✓ 10\/10 · report ✓ 1\/1/);

    const run = await runCli(
      ["dispatch", "--config", config.path, "--output", "json", "--results-dir", results.path],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as ResultsDocument;
    assert.equal(doc.tasks.length, 12);
    assert.ok(doc.tasks.every((t) => t.status === "SUCCESS"), JSON.stringify(doc.tasks));
    const { build, test, report } = byJob(doc);
    assert.deepEqual([build.length, test.length, report.length], [1, 10, 1]);
    assert.deepEqual(test[0].after, ["build"]);
    assert.deepEqual(report[0].after, ["test"]);
    // Each test got build's result; the report got the ten results.
    assert.ok(test.every((t) => t.result === "artifact-42:ok"));
    assert.deepEqual(report[0].result, {
      count: 10,
      results: Array(10).fill("artifact-42:ok"),
    });
    // Nothing was sent before what it waits for had ended.
    const buildDone = Date.parse(build[0].done_at!);
    assert.ok(test.every((t) => Date.parse(t.sent_at!) >= buildDone));
    const testsDone = Math.max(...test.map((t) => Date.parse(t.done_at!)));
    assert.ok(Date.parse(report[0].sent_at!) >= testsDone);
    assert.equal(doc.summary.skipped, 0);
  } finally {
    await deleteQueues(broker.url, config.queues);
  }
});

Deno.test("dts dispatch skips the tests and the report of a failed build, exits 1, and does not hang", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using config = await configFile(ns, [
    "{ id: build, task: build, kwargs: { fail: true } }",
    ...EXAMPLE.slice(1),
  ]);
  const env = { DTS_BROKER_URL: broker.url };
  try {
    await using _workers = await startWorkers(
      { config: config.path, queues: config.queues, prefix: ns.prefix },
      broker.url,
      1,
    );
    const started = performance.now();
    const run = await runCli(
      ["dispatch", "--config", config.path, "--output", "json", "--no-save"],
      { env },
    );
    const tookMs = performance.now() - started;
    assert.equal(run.code, 1, run.stderr);
    assert.ok(tookMs < 15_000, `took ${tookMs} ms, not the 30 s timeout`);
    const doc = JSON.parse(run.stdout) as ResultsDocument;
    const { build, test, report } = byJob(doc);
    assert.equal(build[0].status, "FAILURE");
    assert.equal(build[0].error?.message, "build failed: compiler said no");
    for (const task of [...test, ...report]) {
      assert.equal(task.status, "SKIPPED");
      assert.equal(task.sent_at, null);
      assert.equal(task.error?.type, "DependencyError");
    }
    assert.match(test[0].error!.message, /"build" did not succeed \(1 FAILURE of 1\)/);
    assert.match(report[0].error!.message, /"test" did not succeed \(10 SKIPPED of 10\)/);
    assert.equal(doc.summary.skipped, 11);
    // Nothing of the skipped jobs reached their queues.
    const transport = await AmqpTransport.connect(broker.url);
    try {
      const info = await transport.inspectQueue(config.queues[1]);
      assert.equal(info?.messages ?? 0, 0);
    } finally {
      await transport.close();
    }
  } finally {
    await deleteQueues(broker.url, config.queues);
  }
});

Deno.test("dts dispatch with on_failure: continue runs the tests of a failed build anyway", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using config = await configFile(ns, [
    "{ id: build, task: build, kwargs: { fail: true } }",
    "{ id: test, task: check, count: 3, args_from: build, on_failure: continue }",
    "{ id: report, task: report, args_from: test }",
  ]);
  const env = { DTS_BROKER_URL: broker.url };
  try {
    await using _workers = await startWorkers(
      { config: config.path, queues: config.queues, prefix: ns.prefix },
      broker.url,
      1,
    );
    const run = await runCli(
      ["dispatch", "--config", config.path, "--output", "json", "--no-save"],
      { env },
    );
    assert.equal(run.code, 1, "the build failed");
    const { build, test, report } = byJob(JSON.parse(run.stdout) as ResultsDocument);
    assert.equal(build[0].status, "FAILURE");
    // A failed dependency's result is null.
    assert.deepEqual(test.map((t) => [t.status, t.result]), Array(3).fill(["SUCCESS", "null:ok"]));
    assert.equal(report[0].status, "SUCCESS");
    assert.deepEqual(report[0].result, { count: 3, results: Array(3).fill("null:ok") });
  } finally {
    await deleteQueues(broker.url, config.queues);
  }
});

Deno.test("dts dispatch completes every task once when a test worker is SIGKILLed mid-fan-out", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  await using config = await configFile(ns, [
    "{ id: build, task: build }",
    "{ id: test, task: check, count: 10, args_from: build, kwargs: { ms: 800 } }",
    "{ id: report, task: report, args_from: test }",
  ]);
  await using results = await tempDir();
  const env = { DTS_BROKER_URL: broker.url };
  try {
    await using workers = await startWorkers(
      { config: config.path, queues: config.queues, prefix: ns.prefix },
      broker.url,
      2,
      3,
    );
    const [victim, survivor] = workers.checkWorkers;
    const dispatcher = runCli(
      ["dispatch", "--config", config.path, "--output", "json", "--results-dir", results.path],
      { env },
    );
    await victim.waitFor(/"Task started"[^\n]*task_check/, 20_000);
    victim.kill("SIGKILL");
    const run = await dispatcher;
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as ResultsDocument;
    assert.equal(doc.tasks.length, 12);
    assert.ok(doc.tasks.every((t) => t.status === "SUCCESS"), JSON.stringify(doc.tasks));
    const { test, report } = byJob(doc);
    // The killed worker's tests were redelivered and finished on the survivor.
    const survivorName = `check1-${ns.prefix}@h`;
    assert.ok(test.some((t) => t.worker === survivorName));
    assert.equal(new Set(test.map((t) => t.id)).size, 10);
    assert.deepEqual(report[0].result, { count: 10, results: Array(10).fill("artifact-42:ok") });
    // The report was sent once: one SENT in the run's journal.
    const [journal] = [...Deno.readDirSync(results.path)].filter((e) => e.name.endsWith(".jsonl"));
    const lines = Deno.readTextFileSync(`${results.path}/${journal.name}`).trim().split("\n");
    const sentReports = lines.map((line) => JSON.parse(line)).filter((entry) =>
      entry.kind === "event" && entry.event.type === "SENT" && entry.event.job === "report"
    );
    assert.equal(sentReports.length, 1);
    assert.ok(survivor.output.includes("task_check"));
  } finally {
    await deleteQueues(broker.url, config.queues);
  }
});
