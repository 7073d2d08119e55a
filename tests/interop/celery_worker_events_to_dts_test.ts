/**
 * The other way round from celery_events_test.ts: a real Celery 5.2 worker
 * with `-E` (python3-celery) sends its events, and dts's reader
 * (`subscribeEvents()`, what `dts ui` follows) takes them, task.multi
 * batches included, with Celery's own values.
 */
import assert from "node:assert/strict";
import { type FleetEvent, subscribeEvents } from "../../src/events/event_stream.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { requireCelery, startCeleryWorker } from "../helpers/celery.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { waitUntil } from "../helpers/test_kit.ts";

Deno.test("subscribeEvents() reads a Celery 5.2 worker's -E events: online, heartbeats, each task's sequence", async () => {
  await requireCelery();
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  await using transport = await openTransport(broker.url);
  const seen: FleetEvent[] = [];
  await using stream = await subscribeEvents(transport, (event) => seen.push(event));
  try {
    await using celery = await startCeleryWorker({
      brokerUrl: broker.url,
      queues: [queue],
      prefix: ns.prefix,
      events: true,
    });
    const { outcomes } = await runDispatch(transport, [
      { task: "task_a", queue, args: [1], kwargs: {} },
      { task: "task_fail", queue, args: [], kwargs: { message: "no such thing" } },
    ], { timeoutMs: 20_000 });
    const [ok, failed] = outcomes;
    const ofTask = (id: string) => seen.filter((e) => e.uuid === id).map((e) => e.type);
    await waitUntil(
      "both tasks' last events and a heartbeat",
      () =>
        ofTask(ok.id).includes("task-succeeded") && ofTask(failed.id).includes("task-failed") &&
        seen.some((e) => e.hostname === celery.name && e.type === "worker-heartbeat"),
      20_000,
    );
    assert.deepEqual(ofTask(ok.id), ["task-received", "task-started", "task-succeeded"]);
    assert.deepEqual(ofTask(failed.id), ["task-received", "task-started", "task-failed"]);
    const mine = seen.filter((e) => e.hostname === celery.name);
    assert.ok(mine.some((e) => e.type === "worker-online"), "worker-online");
    const beat = mine.find((e) => e.type === "worker-heartbeat")!;
    assert.equal(beat.fields.sw_ident, "py-celery");
    assert.equal(typeof beat.fields.freq, "number");
    const received = mine.find((e) => e.uuid === ok.id && e.type === "task-received")!;
    assert.equal(received.fields.name, "task_a");
    // Celery reprs the args as they arrived: a JSON list is a Python list.
    assert.equal(received.fields.args, "[1]");
    const succeeded = mine.find((e) => e.uuid === ok.id && e.type === "task-succeeded")!;
    assert.equal(typeof succeeded.fields.runtime, "number");
    const failure = mine.find((e) => e.uuid === failed.id && e.type === "task-failed")!;
    // Celery 5.2's solo pool reprs the exception as its wrapper, ExceptionWithTraceback();
    // the traceback names the error.
    assert.equal(typeof failure.fields.exception, "string");
    assert.match(String(failure.fields.traceback), /ValueError: no such thing/);
    assert.ok(mine.every((e) => e.timestampMs > Date.now() - 120_000), "timestamps in ms");
    assert.equal(stream.stats.skipped.not_json ?? 0, 0);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
