/**
 * Connections cut repeatedly through a TCP proxy (one of them a dispatcher
 * outage) and a worker killed mid-run: every task gets exactly one final
 * result, results finished while the dispatcher was away are still
 * collected, and nothing is left in the queues.
 */
import assert from "node:assert/strict";
import { testBroker } from "../helpers/broker.ts";
import { runChaos } from "../helpers/chaos_run.ts";

Deno.test("runChaos(): 5 connection cuts and a worker SIGKILL lose no task and duplicate no result", async () => {
  await using broker = await testBroker();
  const lines: string[] = [];
  const report = await runChaos({
    brokerUrl: broker.url,
    count: 150,
    cuts: 5,
    taskMs: 30,
    outageMs: 1000,
    timeoutMs: 60_000,
    log: (line) => lines.push(line),
  });
  console.log(JSON.stringify(report));

  assert.equal(report.cuts, 5, lines.join("\n"));
  assert.equal(report.killed, 1);
  assert.ok(report.connectionsCut >= 5, "the proxies really cut connections");
  assert.equal(report.lost, 0);
  assert.equal(report.duplicateResults, 0);
  assert.equal(report.succeeded, 150);
  assert.equal(report.failed, 0);
  assert.ok(
    report.finishedDuringOutage > 0,
    "results waited in the reply queue for the dispatcher",
  );
  assert.deepEqual(report.left, { queue: 0, dead: 0 });
});
