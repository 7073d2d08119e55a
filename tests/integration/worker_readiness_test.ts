/**
 * Readiness follows the broker connection and the drain: `/readyz` is 503
 * while the worker is disconnected or draining, and the metrics count the
 * reconnect.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log/logger.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { createHealthHandler } from "../../src/worker/health_server.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch, testLogger, testTask } from "../helpers/in_process.ts";
import { TcpProxy } from "../helpers/tcp_proxy.ts";
import { waitUntil } from "../helpers/test_kit.ts";

Deno.test("a worker is not ready while its broker connection is down, and ready again after the reconnect", async () => {
  await using broker = await testBroker();
  const target = new URL(broker.url);
  await using proxy = TcpProxy.start({
    hostname: target.hostname,
    port: Number(target.port || 5672),
  });
  const queue = testNamespace().queue("queue_ready");
  // One log for the transport and the worker, as `dts worker` has.
  const lines: string[] = [];
  const logger = createLogger({ format: "json", level: "debug", write: (l) => lines.push(l) });
  const transport = await openTransport(proxy.url(broker.url), {
    onLog: (level, msg, fields) => logger[level](msg, fields),
  });
  const worker = new Worker({
    transport,
    tasks: [testTask("task_ready", queue, () => "ok")],
    name: "ready@test",
    logger,
  });
  const handler = createHealthHandler({
    ready: () => worker.ready(),
    reason: () => worker.notReadyReason(),
    metrics: () => worker.metrics.render(),
  });
  const readyz = async () => {
    const response = await handler(new Request("http://worker/readyz"));
    await response.body?.cancel();
    return response.status;
  };
  try {
    await worker.start();
    assert.equal(await readyz(), 200);

    proxy.outage(500);
    await waitUntil("the worker notices the drop", () => !worker.ready());
    assert.equal(await readyz(), 503);
    assert.match(worker.metrics.render(), /^dts_broker_connected 0$/m);

    await waitUntil("the worker reconnects", () => worker.ready());
    assert.equal(await readyz(), 200);
    const metrics = worker.metrics.render();
    assert.match(metrics, /^dts_broker_connected 1$/m);
    // One drop, one reconnect: attempts that failed during the outage do not count.
    const attempts = lines.filter((l) => /"msg":"Reconnecting to broker"/.test(l)).length;
    assert.ok(attempts >= 2, `the outage outlasts the first attempt: ${attempts}`);
    assert.match(metrics, /^dts_broker_reconnects_total 1$/m);
    // Each event is logged once, by the transport.
    const said = (pattern: RegExp) => lines.filter((l) => pattern.test(l)).length;
    assert.equal(said(/"msg":"broker connection lost"/i), 1, lines.join("\n"));
    assert.equal(said(/"msg":"broker (connection restored|connected)"/i), 1, lines.join("\n"));

    // And it consumes again.
    await using client = await openTransport(broker.url);
    const { outcomes } = await runDispatch(client, [{
      task: "task_ready",
      queue,
      args: [],
      kwargs: {},
    }]);
    assert.equal(outcomes[0].status, "SUCCESS");
  } finally {
    await worker.stop({ drainTimeoutMs: 1000 });
    await transport.close();
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("a draining worker is not ready", async () => {
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_drain_ready");
  await using transport = await openTransport(broker.url);
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const worker = new Worker({
    transport,
    tasks: [testTask("task_hold", queue, async () => {
      started.resolve();
      await release.promise;
      return "done";
    })],
    name: "drain@test",
    logger: testLogger(),
  });
  try {
    await worker.start();
    const dispatched = runDispatch(transport, [{ task: "task_hold", queue, args: [], kwargs: {} }]);
    await started.promise;
    const stopping = worker.stop({ drainTimeoutMs: 10_000 });
    assert.equal(worker.ready(), false);
    assert.equal(worker.notReadyReason(), "draining");
    release.resolve();
    await stopping;
    assert.equal((await dispatched).outcomes[0].status, "SUCCESS");
  } finally {
    release.resolve();
    await worker.stop({ drainTimeoutMs: 0 });
    await deleteQueues(broker.url, [queue]);
  }
});
