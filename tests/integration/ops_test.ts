/**
 * What an operator sees: a worker's health, readiness and metrics over HTTP,
 * `dts status` against real workers, and the live pretty view of a dispatch.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { tempDir } from "../helpers/test_kit.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function writeConfig(dir: string, queue: string, extra = ""): Promise<string> {
  const path = `${dir}/config.yml`;
  await Deno.writeTextFile(
    path,
    `name: ops\ntasks:\n  a: { name: task_a, queue: ${queue} }\ndispatch:\n  timeout: 20s\n  jobs: [ { task: a, args: [5] } ]\n${extra}`,
  );
  return path;
}

Deno.test("a worker serves /healthz, /readyz and Prometheus /metrics that count its tasks", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  await using tmp = await tempDir();
  const dir = tmp.path;
  try {
    const config = await writeConfig(dir, queue);
    const port = freePort();
    const env = { DTS_BROKER_URL: broker.url };
    await using worker = new CliProcess(
      [
        "worker",
        "--task",
        "a",
        "--config",
        config,
        "--health-port",
        String(port),
        "--health-host",
        "127.0.0.1",
      ],
      { env },
    );
    // It listens before it connects: alive, but not ready until it consumes.
    await worker.waitFor(/Health server listening/);
    const base = `http://127.0.0.1:${port}`;
    const healthz = await fetch(`${base}/healthz`);
    assert.equal(healthz.status, 200);
    await healthz.body?.cancel();
    await worker.waitFor(/Worker started/);
    const readyz = await fetch(`${base}/readyz`);
    assert.equal(readyz.status, 200);
    await readyz.body?.cancel();

    const run = await runCli(["dispatch", "--config", config, "--output", "json", "--no-save"], {
      env,
    });
    assert.equal(run.code, 0, run.stderr);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^# HELP dts_tasks_total /m);
    assert.match(metrics, /^# TYPE dts_task_duration_seconds histogram$/m);
    assert.match(metrics, /^dts_tasks_total\{task="task_a",status="SUCCESS"\} 1$/m);
    assert.match(metrics, /^dts_task_duration_seconds_count\{task="task_a"\} 1$/m);
    assert.match(metrics, /^dts_broker_connected 1$/m);
    assert.match(metrics, /^dts_tasks_in_flight 0$/m);
    assert.match(metrics, /^dts_broker_reconnects_total 0$/m);

    worker.kill("SIGTERM");
    assert.equal((await worker.finished()).code, 0);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("dts status shows each task queue's depth, consumers and dead letters, and the live workers", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  const idle = ns.queue("queue_idle");
  await using tmp = await tempDir();
  const dir = tmp.path;
  try {
    const config = await writeConfig(dir, queue);
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(config)).replace(
        "tasks:\n",
        `tasks:\n  idle: { name: task_idle, queue: ${idle} }\n`,
      ),
    );
    const env = { DTS_BROKER_URL: broker.url };
    await using worker = new CliProcess(
      ["worker", "--task", "a", "--config", config, "--name", `worker-a-${ns.prefix}@ops`],
      { env },
    );
    await worker.waitFor(/Worker started/);
    const run = await runCli(["status", "--json", "--config", config], { env });
    assert.equal(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout);
    assert.equal(status.broker.reachable, true);
    assert.doesNotMatch(status.broker.url, /guest:guest/);
    const byQueue = Object.fromEntries(status.queues.map((q: { queue: string }) => [q.queue, q]));
    assert.deepEqual(byQueue[queue], { task: "task_a", queue, messages: 0, consumers: 1, dead: 0 });
    assert.deepEqual(byQueue[idle], {
      task: "task_idle",
      queue: idle,
      messages: null,
      consumers: null,
      dead: null,
    });
    const me = status.workers.find((w: { name: string }) => w.name === `worker-a-${ns.prefix}@ops`);
    assert.ok(me, JSON.stringify(status.workers));
    assert.equal(me.pid, worker.pid);
    assert.deepEqual(me.tasks, ["task_a"]);
    assert.ok(me.uptime_s >= 0);
    // What it honours: the fleet's revocations of the last 3 hours on this broker, and none used yet.
    assert.equal(typeof me.revoked.known, "number");
    assert.deepEqual([me.revoked.refused, me.revoked.terminated], [0, 0]);

    const pretty = await runCli(["status", "--config", config], { env });
    assert.equal(pretty.code, 0);
    assert.match(pretty.stdout, new RegExp(`task_a\\s+${queue}\\s+0\\s+1\\s+0`));
    assert.match(
      pretty.stdout,
      new RegExp(
        `worker-a-${ns.prefix}@ops\\s+host ops\\s+pid ${worker.pid}.* revoked \\d+ \\(refused 0, terminated 0\\)`,
      ),
    );
  } finally {
    await deleteQueues(broker.url, [queue, idle]);
  }
});

Deno.test("dts status exits 3 when the broker is unreachable", async () => {
  const run = await runCli(["status"], { env: { DTS_BROKER_URL: "amqp://u:hidden@127.0.0.1:1/" } });
  assert.equal(run.code, 3);
  assert.doesNotMatch(run.stderr, /hidden/);
});

Deno.test("dts dispatch --output pretty shows a timestamped line per state change, then results and timing", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  await using tmp = await tempDir();
  const dir = tmp.path;
  try {
    const config = await writeConfig(dir, queue, "results:\n  dir: " + `${dir}/out\n`);
    // More workers expected than exist: a warning, not a failure.
    await Deno.writeTextFile(
      config,
      (await Deno.readTextFile(config)).replace(
        "dispatch:\n",
        "dispatch:\n  expected_workers: 99\n",
      ),
    );
    const env = { DTS_BROKER_URL: broker.url };
    await using worker = new CliProcess([
      "worker",
      "--task",
      "a",
      "--config",
      config,
      "--name",
      "w-a@h",
    ], {
      env,
    });
    await worker.waitFor(/Worker started/);
    const run = await runCli(["dispatch", "--config", config, "--output", "pretty"], { env });
    assert.equal(run.code, 0, run.stderr);
    const out = run.stdout;
    assert.ok(
      !out.includes("\x1b["),
      "no colour when NO_COLOR is set and stdout is not a terminal",
    );
    assert.match(out, /^Dispatch: ops$/m);
    // Only the worker that consumes the job's queue counts, not every worker on the broker.
    assert.match(out, /workers {2}1 of 99 expected serve these queues: w-a@h\b/);
    assert.match(out, /WARN: 98 of 99 expected workers missing/);
    assert.match(
      run.stderr,
      /"msg":"Fewer workers serve the jobs' queues than expected","expected":99,"serving":1/,
    );
    const states = [...out.matchAll(/^\d\d:\d\d:\d\d\.\d{3} {2}(\w+)\s+task_a/gm)].map((m) => m[1]);
    assert.deepEqual(states, ["SENT", "RECEIVED", "STARTED", "SUCCESS"]);
    assert.match(out, /^Results$/m);
    assert.match(out, /task_a\s+[0-9a-f-]{36}\s+\S+\s+SUCCESS\s+"Hello from Task A"\s+w-a@h/);
    assert.match(out, /total\s+[\d.]+ ms \(dispatch\)\s+sequential\s+[\d.]+ ms/);
    assert.match(out, /tasks\s+succeeded 1\s+failed 0\s+of 1/);
    assert.match(out, /Results saved to .*dispatch_results_\d{8}_\d{6}\.json/);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("every broker command warns loudly when NODE_TLS_REJECT_UNAUTHORIZED=0 turns TLS checks off", async () => {
  await using broker = await testBroker();
  const env = { DTS_BROKER_URL: broker.url, NODE_TLS_REJECT_UNAUTHORIZED: "0" };
  const run = await runCli(["status", "--json"], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /"level":"warn","msg":"NODE_TLS_REJECT_UNAUTHORIZED=0 is set: TLS certificates are NOT verified/,
  );
  const quiet = await runCli(["status", "--json"], { env: { DTS_BROKER_URL: broker.url } });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /NODE_TLS_REJECT_UNAUTHORIZED/);
});
