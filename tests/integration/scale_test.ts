/**
 * `dts scale` as an operator runs it, on RabbitMQ: real worker processes
 * come and go with the backlog of a namespaced queue.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";

const PLUGINS = "tests/fixtures/plugins/good";

async function writeConfig(dir: string, queue: string, scaling: string): Promise<string> {
  const path = `${dir}/scale.yml`;
  await Deno.writeTextFile(
    path,
    `name: scale test
tasks:
  slow: { name: task_slow, queue: ${queue} }
worker:
  drain_timeout: 5s
${scaling}`,
  );
  return path;
}

/** Poll `read` until `done` holds; calls `seen` with every value; fails with `what` after `timeoutMs`. */
async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  options: { timeoutMs?: number; seen?: (value: T) => void; log?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (true) {
    const value = await read();
    options.seen?.(value);
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${what}; last: ${JSON.stringify(value)}\n${options.log?.() ?? ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function consumers(transport: Transport, queue: string): () => Promise<number> {
  return async () => (await transport.inspectQueue(queue))?.consumers ?? 0;
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

function startedPids(stderr: string): number[] {
  return logLines(stderr).filter((l) => l.msg === "Started worker process").map((l) =>
    l.pid as number
  );
}

/**
 * Stop `dts scale` and anything it left behind. Its workers hold its stdout
 * and stderr open, so an orphaned worker (the scaler killed by a failed test)
 * would keep the harness waiting forever.
 */
async function stopScale(scale: CliProcess): Promise<void> {
  scale.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    scale.finished(),
    new Promise((r) => timer = setTimeout(r, 15_000)),
  ]);
  clearTimeout(timer);
  for (const pid of startedPids(scale.stderr)) {
    if (await processExists(pid)) Deno.kill(pid, "SIGKILL");
  }
  await scale[Symbol.asyncDispose]();
}

async function processExists(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // A zombie (state Z) has ended; only its parent has not collected it yet.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

Deno.test("dts scale replaces a killed worker, adds workers for a backlog, drops back to min once it is gone, and stops them all on SIGTERM", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_slow");
  const dir = await Deno.makeTempDir();
  await using transport = await openTransport(broker.url);
  let scale: CliProcess | undefined;
  try {
    const config = await writeConfig(
      dir,
      queue,
      "scaling:\n  slow: { min: 1, max: 3, backlog_per_worker: 2 }\n",
    );
    scale = new CliProcess(
      [
        "scale",
        "--config",
        config,
        "--plugins",
        PLUGINS,
        "--interval",
        "200ms",
        "--cooldown",
        "1s",
      ],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    const log = () => scale?.stderr ?? "";
    await waitUntil(consumers(transport, queue), (n) => n === 1, "the min worker", { log });

    // A worker that dies is replaced (after the 1 s crash backoff), under the same name.
    const [first] = startedPids(log());
    Deno.kill(first, "SIGKILL");
    await scale.waitFor(
      /"msg":"Worker process exited unexpectedly; replacing it".*"signal":"SIGKILL"/,
    );
    await waitUntil(
      () => Promise.resolve(startedPids(log()).length),
      (n) => n === 2,
      "a new worker",
      {
        log,
      },
    );
    await waitUntil(consumers(transport, queue), (n) => n === 1, "the replacement to consume", {
      log,
    });
    assert.equal(await processExists(first), false);

    // 8 slow tasks: one goes to the worker, 7 wait → ceil(7 / 2) = 4, capped at max 3.
    let peak = 0;
    const watching = new AbortController();
    const watcher = (async () => {
      while (!watching.signal.aborted) {
        peak = Math.max(peak, await consumers(transport, queue)());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const jobs = Array.from({ length: 8 }, () => ({
      task: "task_slow",
      queue,
      args: [],
      kwargs: { ms: 1500 },
    }));
    const { outcomes } = await runDispatch(transport, jobs, { timeoutMs: 30_000 });
    watching.abort();
    await watcher;

    assert.deepEqual(outcomes.map((o) => o.status), Array(8).fill("SUCCESS"), log());
    const workers = new Set(outcomes.map((o) => o.worker));
    assert.ok(workers.size >= 2, `tasks ran on more than one worker: ${[...workers]}`);
    for (const worker of workers) assert.match(String(worker), /^worker-slow-[123]@/);
    assert.equal(peak, 3, `consumers went from 1 up to max: peak ${peak}`);
    assert.match(log(), /scaled task_slow from 1 to 3 workers: backlog \d+/);

    // The backlog is gone: one step down per second of cool-down, back to min.
    await waitUntil(consumers(transport, queue), (n) => n === 1, "back to min", { log });
    // Ready messages only: with 2 waiting behind 3 busy workers the first step may come early,
    // and with 1 waiting behind 2 the second (ceil(1 / 2) = 1); both come, one per cool-down.
    assert.match(log(), /scaled task_slow from 3 to 2 workers: backlog \d+/);
    assert.match(log(), /scaled task_slow from 2 to 1 workers: backlog [01]\b/);
    assert.deepEqual(await transport.inspectQueue(queue), { messages: 0, consumers: 1 });

    // A scaled-down worker stops consuming at once, then drains its running task and exits.
    const exited = () => logLines(log()).filter((l) => l.msg === "Worker process exited");
    await waitUntil(() => Promise.resolve(exited().length), (n) => n === 2, "two drained exits", {
      log,
    });
    const lines = logLines(log());
    const pids = startedPids(log());
    assert.equal(pids.length, 4, JSON.stringify(pids));
    const names = lines.filter((l) => l.msg === "Started worker process").map((l) =>
      String(l.worker).split("@")[0]
    );
    assert.deepEqual(names, ["worker-slow-1", "worker-slow-1", "worker-slow-2", "worker-slow-3"]);
    assert.deepEqual(exited().map((l) => l.code), [0, 0], "scaled-down workers drained, exited 0");
    assert.equal(
      lines.filter((l) => l.msg === "Worker process exited unexpectedly; replacing it").length,
      1,
      "only the killed one",
    );

    scale.kill("SIGTERM");
    const result = await scale.finished();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /"msg":"Scaler stopped"/);
    for (const pid of pids) {
      assert.equal(await processExists(pid), false, `worker pid ${pid} is gone`);
    }
    assert.deepEqual(await transport.inspectQueue(queue), { messages: 0, consumers: 0 });
  } finally {
    if (scale) await stopScale(scale);
    await deleteQueues(broker.url, [queue]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dts scale --dry-run prints its decisions, starts no worker, and exits 130 on SIGINT", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_slow");
  const dir = await Deno.makeTempDir();
  await using transport = await openTransport(broker.url);
  let scale: CliProcess | undefined;
  try {
    await transport.assertTaskQueue(queue);
    for (let i = 0; i < 5; i++) await transport.publish(queue, new TextEncoder().encode("{}"));
    const config = await writeConfig(
      dir,
      queue,
      "scaling:\n  slow: { min: 1, max: 4, backlog_per_worker: 2 }\n",
    );
    scale = new CliProcess(
      ["scale", "--config", config, "--plugins", PLUGINS, "--dry-run", "--interval", "100ms"],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    await scale.waitFor(/would start worker-slow-3@/);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await transport.inspectQueue(queue), { messages: 5, consumers: 0 });
    scale.kill("SIGINT");
    const result = await scale.finished();
    assert.equal(result.code, 130, result.stderr);
    const host = result.stdout.match(/worker-slow-1@(\S+)/)?.[1];
    assert.deepEqual(result.stdout.split("\n"), [
      "would scale task_slow from 0 to 3 workers: backlog 5",
      `would start worker-slow-1@${host}`,
      `would start worker-slow-2@${host}`,
      `would start worker-slow-3@${host}`,
      `would stop worker-slow-1@${host} (SIGTERM)`,
      `would stop worker-slow-2@${host} (SIGTERM)`,
      `would stop worker-slow-3@${host} (SIGTERM)`,
      "",
    ]);
    assert.deepEqual(startedPids(result.stderr), [], "no real process");
    assert.equal(
      logLines(result.stderr).filter((l) => l.msg === "Would start worker process").length,
      3,
    );
  } finally {
    if (scale) await stopScale(scale);
    await deleteQueues(broker.url, [queue]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dts scale exits 2 on min > max, a config without scaling, no --config, and a zero interval", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = await writeConfig(dir, "q", "scaling:\n  slow: { min: 3, max: 2 }\n");
    const badRun = await runCli(["scale", "--config", bad, "--plugins", PLUGINS]);
    assert.equal(badRun.code, 2, badRun.stderr);
    assert.match(badRun.stderr, /scaling\.slow\.max must be >= min \(3\) \(line \d+\)/);

    const none = await writeConfig(dir, "q", "");
    const noneRun = await runCli(["scale", "--config", none]);
    assert.equal(noneRun.code, 2, noneRun.stderr);
    assert.match(noneRun.stderr, /Cannot start scaler: config ".*" has no scaling section/);

    const missing = await runCli(["scale"]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /Cannot start scaler: no config file; name one with --config/);

    const zero = await runCli(["scale", "--config", none, "--interval", "0s"]);
    assert.equal(zero.code, 2, zero.stderr);
    assert.match(zero.stderr, /"0s" is not a duration > 0/);
    assert.equal(zero.stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
