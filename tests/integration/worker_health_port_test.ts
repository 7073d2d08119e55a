/**
 * The worker's HTTP ports on a shared host: a busy default health port moves
 * to a free one; a busy port the user chose stops the start in one line
 * (exit 2) before the broker is touched; /metrics can live on its own address.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { tempConfig } from "../helpers/test_kit.ts";

/** Hold `port` on all interfaces for the test; null when someone else already holds it (busy either way). */
function hold(port: number): Deno.TcpListener | null {
  try {
    return Deno.listen({ hostname: "0.0.0.0", port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return null;
    throw error;
  }
}

async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.status;
}

Deno.test("a worker whose default health port 8080 is busy listens on another and logs which", async () => {
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_a");
  await using config = await tempConfig(`tasks:\n  a: { name: task_a, queue: ${queue} }\n`);
  const holder = hold(8080);
  try {
    await using worker = new CliProcess(
      ["worker", "--task", "a", "--config", config.path, "--log-format", "json"],
      // No DTS_HEALTH_PORT: the default port, which may move.
      { env: { DTS_BROKER_URL: broker.url, DTS_HEALTH_PORT: "" } },
    );
    const [, port] = await worker.waitFor(/"msg":"Health server: port 8080 is busy; using (\d+)"/);
    await worker.waitFor(new RegExp(`"msg":"Health server listening".*"port":${port}\\b`));
    assert.notEqual(Number(port), 8080);
    assert.equal(await status(`http://127.0.0.1:${port}/healthz`), 200);
    await worker.waitFor(/"Worker started"/);
    assert.equal(await status(`http://127.0.0.1:${port}/metrics`), 200);
    worker.kill("SIGTERM");
    assert.equal((await worker.finished()).code, 0);
  } finally {
    holder?.close();
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("a worker given a busy --health-port exits 2 in one line naming it, before connecting", async () => {
  using holder = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = holder.addr.port;
  const run = await runCli(["worker", "--task", "a", "--health-port", String(port)], {
    // Nothing listens there: a connect attempt would exit 3.
    env: { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/" },
  });
  assert.equal(run.code, 2, run.stderr);
  const lines = run.stderr.trim().split("\n").filter((l) => !l.startsWith("{"));
  assert.deepEqual(lines, [
    `dts: Cannot serve health checks and /metrics on 0.0.0.0:${port}: the port is in use; choose another with --health-port (0 turns it off)`,
  ]);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
});

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

Deno.test("--metrics-host and --metrics-port serve /metrics on their own address only", async () => {
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_a");
  await using config = await tempConfig(`tasks:\n  a: { name: task_a, queue: ${queue} }\n`);
  const healthPort = freePort();
  const metricsPort = freePort();
  try {
    await using worker = new CliProcess(
      [
        ...["worker", "--task", "a", "--config", config.path, "--log-format", "json"],
        ...["--health-host", "127.0.0.1", "--health-port", String(healthPort)],
        ...["--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort)],
      ],
      { env: { DTS_BROKER_URL: broker.url } },
    );
    await worker.waitFor(/"Worker started"/);
    const health = `http://127.0.0.1:${healthPort}`;
    const metrics = `http://127.0.0.1:${metricsPort}`;
    assert.equal(await status(`${health}/healthz`), 200);
    assert.equal(await status(`${health}/readyz`), 200);
    assert.equal(await status(`${health}/metrics`), 404, "not on the health address");
    const text = await (await fetch(`${metrics}/metrics`)).text();
    assert.match(text, /^dts_broker_connected 1$/m);
    assert.equal(await status(`${metrics}/healthz`), 404);
    worker.kill("SIGTERM");
    assert.equal((await worker.finished()).code, 0);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
