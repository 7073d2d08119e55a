/**
 * Celery events on a real RabbitMQ: a dts worker with events on runs tasks
 * that succeed, fail, retry and are revoked (terminated while running),
 * a dispatch sends task-sent, and `subscribeEvents()` sees, per task id,
 * the sequence Celery's own worker would send, plus the worker's
 * online, heartbeat and offline events.
 */
import assert from "node:assert/strict";
import { inspectWorkers } from "../../src/client/inspect_workers.ts";
import { revokeTasks } from "../../src/client/revoke_tasks.ts";
import { OutcomeCollector } from "../../src/dispatch/collect_outcomes.ts";
import { dispatch } from "../../src/dispatch/dispatcher.ts";
import { EventEmitter } from "../../src/events/event_emitter.ts";
import { type FleetEvent, subscribeEvents } from "../../src/events/event_stream.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { testLogger, testTask } from "../helpers/in_process.ts";
import { waitUntil } from "../helpers/test_kit.ts";

Deno.test("a worker with events on sends Celery's task and worker events; the stream shows each task's sequence", async () => {
  await using broker = await testBroker();
  const names = testNamespace();
  const q = names.queue("events");
  await using transport = await openTransport(broker.url);
  const workerName = `worker-events-${names.prefix}@test`;
  const seen: FleetEvent[] = [];
  await using stream = await subscribeEvents(transport, (event) => seen.push(event));
  const attempts = new Map<string, number>();
  const ok = testTask("task_ev_ok", q, () => "fine");
  const fails = testTask("task_ev_fail", q, () => {
    throw Object.assign(new Error("boom"), { name: "ValueError", retryable: false });
  });
  const flaky = testTask("task_ev_flaky", q, (ctx) => {
    const n = (attempts.get(ctx.id) ?? 0) + 1;
    attempts.set(ctx.id, n);
    if (n === 1) throw new Error("first try fails");
    return { attempt: n };
  });
  const slow = testTask("task_ev_slow", q, (ctx) =>
    new Promise((_, reject) => {
      ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
    }));
  const worker = new Worker({
    transport,
    tasks: [ok, fails, flaky, slow],
    name: workerName,
    concurrency: 4,
    logger: testLogger(),
    events: true,
    heartbeatMs: 200,
    version: "9.9.9",
  });
  const sender = new EventEmitter({ transport, hostname: `gen-${names.prefix}@test` });
  try {
    await worker.start();
    const ids = { ok: "", fails: "", flaky: "", slow: "" };
    const jobs = (["ok", "fails", "flaky", "slow"] as const).map((key) => {
      ids[key] = crypto.randomUUID();
      const task = { ok, fails, flaky, slow }[key];
      return { id: ids[key], task: task.name, queue: q, args: [key], kwargs: { k: 1 } };
    });
    const outcomes = new OutcomeCollector();
    let revoking = false;
    for await (
      const event of dispatch({ transport, jobs, timeoutMs: 15_000, sentEvents: sender })
    ) {
      outcomes.add(event);
      // Terminated once it runs.
      if (!revoking && event.type === "STARTED" && event.id === ids.slow) {
        revoking = true;
        await revokeTasks(transport, [ids.slow], { terminate: true, reason: "test" });
      }
    }
    assert.deepEqual(
      Object.fromEntries(outcomes.outcomes().map((o) => [o.task, o.status])),
      {
        task_ev_ok: "SUCCESS",
        task_ev_fail: "FAILURE",
        task_ev_flaky: "SUCCESS",
        task_ev_slow: "REVOKED",
      },
    );
    await waitUntil("a few heartbeats", () => heartbeats(seen, workerName).length >= 2, 5000);
    await worker.stop({ drainTimeoutMs: 2000 });
    await waitUntil(
      "worker-offline",
      () => seen.some((e) => e.type === "worker-offline" && e.hostname === workerName),
      5000,
    );

    const sequence = (id: string) => seen.filter((e) => e.uuid === id).map((e) => e.type);
    assert.deepEqual(sequence(ids.ok), [
      "task-sent",
      "task-received",
      "task-started",
      "task-succeeded",
    ]);
    assert.deepEqual(sequence(ids.fails), [
      "task-sent",
      "task-received",
      "task-started",
      "task-failed",
    ]);
    assert.deepEqual(sequence(ids.flaky), [
      "task-sent",
      "task-received",
      "task-started",
      "task-retried",
      "task-received",
      "task-started",
      "task-succeeded",
    ]);
    assert.deepEqual(sequence(ids.slow), [
      "task-sent",
      "task-received",
      "task-started",
      "task-revoked",
    ]);

    const one = (type: string, id: string) => seen.find((e) => e.type === type && e.uuid === id)!;
    const sent = one("task-sent", ids.ok);
    assert.equal(sent.hostname, `gen-${names.prefix}@test`);
    assert.deepEqual(
      pick(sent.fields, ["name", "args", "kwargs", "retries", "queue", "routing_key"]),
      {
        name: "task_ev_ok",
        args: "['ok']",
        kwargs: "{'k': 1}",
        retries: 0,
        queue: q,
        routing_key: q,
      },
    );
    const received = one("task-received", ids.ok);
    assert.equal(received.hostname, workerName);
    assert.deepEqual(
      pick(received.fields, ["name", "args", "kwargs", "retries", "eta", "expires"]),
      {
        name: "task_ev_ok",
        args: "['ok']",
        kwargs: "{'k': 1}",
        retries: 0,
        eta: null,
        expires: null,
      },
    );
    assert.equal(one("task-succeeded", ids.ok).fields.result, "'fine'");
    assert.equal(typeof one("task-succeeded", ids.ok).fields.runtime, "number");
    assert.equal(one("task-succeeded", ids.flaky).fields.result, "{'attempt': 2}");
    assert.equal(one("task-failed", ids.fails).fields.exception, "ValueError('boom')");
    assert.equal(typeof one("task-failed", ids.fails).fields.traceback, "string");
    assert.equal(one("task-retried", ids.flaky).fields.exception, "Error('first try fails')");
    const retriedAgain = seen.filter((e) => e.type === "task-received" && e.uuid === ids.flaky);
    assert.deepEqual(retriedAgain.map((e) => e.fields.retries), [0, 1]);
    assert.deepEqual(
      pick(one("task-revoked", ids.slow).fields, ["terminated", "signum", "expired"]),
      {
        terminated: true,
        signum: 15,
        expired: false,
      },
    );
    // The worker's own clock goes forward with each event it sends.
    const clocks = seen.filter((e) => e.hostname === workerName).map((e) => e.clock!);
    assert.deepEqual(clocks, [...clocks].sort((a, b) => a - b));

    const mine = seen.filter((e) => e.hostname === workerName && e.type.startsWith("worker-"));
    assert.equal(mine[0].type, "worker-online");
    assert.equal(mine.at(-1)!.type, "worker-offline");
    const beat = heartbeats(seen, workerName)[0];
    assert.deepEqual(pick(beat.fields, ["freq", "sw_ident", "sw_ver", "sw_sys", "pid"]), {
      freq: 0.2,
      sw_ident: "dts",
      sw_ver: "9.9.9",
      sw_sys: "Linux",
      pid: Deno.pid,
    });
    assert.equal((beat.fields.loadavg as number[]).length, 3);
    assert.equal(mine.at(-1)!.fields.processed, 5, "five attempts started");
    assert.equal(mine.at(-1)!.fields.active, 0);
    assert.deepEqual(worker.eventStats(), {
      sent: worker.eventStats()!.sent,
      dropped: 0,
      failed: 0,
    });
    // /metrics counts them too.
    const sentMetric = worker.metrics.render().match(/^dts_events_total\{outcome="sent"\} (\d+)$/m);
    assert.equal(Number(sentMetric?.[1]), worker.eventStats()!.sent);
    assert.ok(worker.eventStats()!.sent >= 10, `sent ${worker.eventStats()!.sent}`);
    assert.equal(stream.stats.skipped.not_json, 0);
  } finally {
    await worker.stop({ drainTimeoutMs: 0 });
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a worker with events off sends none", async () => {
  await using broker = await testBroker();
  const names = testNamespace();
  const q = names.queue("no_events");
  await using transport = await openTransport(broker.url);
  const workerName = `worker-quiet-${names.prefix}@test`;
  const seen: FleetEvent[] = [];
  await using _stream = await subscribeEvents(transport, (event) => seen.push(event));
  const worker = new Worker({
    transport,
    tasks: [testTask("task_quiet", q, () => "ok")],
    name: workerName,
    logger: testLogger(),
    heartbeatMs: 100,
  });
  try {
    await worker.start();
    const jobs = [{ task: "task_quiet", queue: q, args: [], kwargs: {} }];
    for await (const _ of dispatch({ transport, jobs, timeoutMs: 10_000 })) { /* to the end */ }
    await new Promise((resolve) => setTimeout(resolve, 400));
    await worker.stop({ drainTimeoutMs: 1000 });
    assert.deepEqual(seen.filter((e) => e.hostname === workerName), []);
    assert.equal(worker.eventStats(), null);
    assert.doesNotMatch(worker.metrics.render(), /dts_events_total/);
  } finally {
    await worker.stop({ drainTimeoutMs: 0 });
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a worker with events on answers Celery's heartbeat broadcast (celery events, Flower) with a worker-heartbeat at once", async () => {
  await using broker = await testBroker();
  const names = testNamespace();
  const q = names.queue("beat_now");
  await using transport = await openTransport(broker.url);
  const workerName = `worker-beat-${names.prefix}@test`;
  const seen: FleetEvent[] = [];
  await using _stream = await subscribeEvents(transport, (event) => seen.push(event));
  const worker = new Worker({
    transport,
    tasks: [testTask("task_beat", q, () => "ok")],
    name: workerName,
    logger: testLogger(),
    events: true,
    heartbeatMs: 60_000,
  });
  try {
    await worker.start();
    await waitUntil("worker-online", () => seen.some((e) => e.hostname === workerName), 5000);
    assert.equal(heartbeats(seen, workerName).length, 0);
    // Other tests' workers on this broker may answer too: only ours counts.
    const replies = await inspectWorkers(transport, { method: "heartbeat", timeoutMs: 1000 });
    assert.deepEqual(replies.get(workerName), { ok: "heartbeat sent" });
    await waitUntil("a heartbeat", () => heartbeats(seen, workerName).length === 1, 2000);
  } finally {
    await worker.stop({ drainTimeoutMs: 0 });
    await deleteQueues(broker.url, [q]);
  }
});

function heartbeats(events: FleetEvent[], hostname: string): FleetEvent[] {
  return events.filter((e) => e.type === "worker-heartbeat" && e.hostname === hostname);
}

function pick(fields: Readonly<Record<string, unknown>>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, fields[key]]));
}
