/**
 * `dts worker` runs plugins off its own event loop: a plugin that blocks its
 * thread for seconds neither stops the worker's broker heartbeats (the
 * connection stays up at a 1 s heartbeat) nor its health server, and one
 * that calls `Deno.exit()` or reads what it did not declare fails alone.
 */
import assert from "node:assert/strict";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, freePort, spawnWorker, tempConfig } from "../helpers/test_kit.ts";

Deno.test("a plugin blocking its thread for 6 s leaves the worker's heartbeats and /healthz responsive", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("busy");
  const port = freePort();
  await using config = await tempConfig(
    `tasks:\n  hostile:\n    name: task_hostile\n    queue: ${q}\n    timeout: 20s\n`,
  );
  await using transport = await openTransport(broker.url);
  const heartbeatUrl = `${broker.url}${broker.url.includes("?") ? "&" : "?"}heartbeat=1`;
  try {
    await using worker = await spawnWorker(
      ["--task", "hostile", "--config", config.path, "--plugins", FIXTURE_PLUGINS.hostile],
      { brokerUrl: heartbeatUrl, env: { DTS_HEALTH_PORT: String(port) } },
    );
    const latencies: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const started = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        await response.body?.cancel();
        assert.equal(response.status, 200);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const { outcomes } = await runDispatch(transport, [
      { task: "task_hostile", queue: q, args: ["busy", 6000], kwargs: {} },
      { task: "task_hostile", queue: q, args: ["exit"], kwargs: {} },
      { task: "task_hostile", queue: q, args: ["read"], kwargs: {} },
    ], { timeoutMs: 30_000 });
    polling = false;
    await poller;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

    assert.equal(outcomes.length, 3);
    const busy = outcomes.find((o) => o.result === "done spinning");
    assert.ok(busy, JSON.stringify(outcomes));
    assert.equal(busy.status, "SUCCESS");
    const failures = outcomes.filter((o) => o.status === "FAILURE").map((o) => o.error?.type);
    assert.ok(failures.includes("PluginExitError"), JSON.stringify(failures));
    assert.ok(failures.includes("NotCapable"), JSON.stringify(failures));
    const max = Math.max(...latencies);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `/healthz during a 6 s busy plugin: ${latencies.length} probes, ` +
        `p50 ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, max ${max.toFixed(1)} ms`,
    );
    assert.ok(latencies.length >= 30, `${latencies.length} probes`);
    assert.ok(max < 1000, `/healthz answered within 1 s every time (max ${max.toFixed(0)} ms)`);
    assert.match(
      metrics,
      /^dts_broker_reconnects_total 0$/m,
      "the broker connection never dropped",
    );
    assert.doesNotMatch(worker.stderr, /broker connection lost/);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a plugin's top-level code runs with no permissions: reading a file while it loads stops the start", async () => {
  const run = await runCli(
    ["worker", "--task", "reads_at_import", "--plugins", "tests/fixtures/plugins/top_level_read"],
    { env: { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/", DTS_HEALTH_PORT: "0" } },
  );
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr.trim(),
    /^dts: Cannot load plugin "tests\/fixtures\/plugins\/top_level_read\/reads_at_import\.ts": its top-level code needs read access to "\/etc\/hostname"; a plugin's module code runs with no permissions: do that inside run\(\)/,
  );
});
