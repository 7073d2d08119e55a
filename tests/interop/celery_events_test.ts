/**
 * Celery's own monitor reads dts's events: `celery events --dump`
 * (python3-celery 5.2, a subprocess) shows a dts worker's online,
 * heartbeat and shutdown, and each task's sent, received, started,
 * succeeded / failed / retried line, with Celery's field values. What it
 * prints is parsed line by line (its `Dumper` format) and asserted on.
 */
import assert from "node:assert/strict";
import { dispatch } from "../../src/dispatch/dispatcher.ts";
import { EventEmitter } from "../../src/events/event_emitter.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { Worker } from "../../src/worker/worker.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CeleryProcess, requireCelery } from "../helpers/celery.ts";
import { testLogger, testTask } from "../helpers/in_process.ts";

/** One line of `celery events --dump`: `host [2026-12-03 10:00:00.123456] task received: name(id) args=… kwargs=… k=v, …`. */
interface DumpLine {
  hostname: string;
  /** `started`, `heartbeat`, `shutdown`, `task received`, … (Celery's humanized type). */
  what: string;
  /** For task lines: the `name(id)` the dumper remembers from task-sent / task-received. */
  task: { name: string; id: string } | null;
  fields: Map<string, string>;
  line: string;
}

const LINE = /^(\S+) \[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\] ([a-z ]+?)(?::\s?(.*))?$/;
const TASK = /^(?:(\S+)\(([0-9a-f-]{36})\) args=.*? kwargs=\{.*?\} ?)?(.*)$/;

function parseDump(output: string): DumpLine[] {
  const lines: DumpLine[] = [];
  for (const line of output.split("\n")) {
    const match = line.match(LINE);
    if (!match) continue;
    const [, hostname, , what, rest = ""] = match;
    let task: DumpLine["task"] = null;
    let fieldText = rest;
    if (what.startsWith("task ")) {
      const t = rest.match(TASK)!;
      if (t[1] !== undefined) task = { name: t[1], id: t[2] };
      fieldText = t[3];
    }
    // Fields are `key=value` joined by ", "; a value may itself hold ", " (a repr), so split on keys.
    const fields = new Map<string, string>();
    for (const m of fieldText.matchAll(/(?:^|, )([a-z_]+)=(.*?)(?=, [a-z_]+=|$)/g)) {
      fields.set(m[1], m[2]);
    }
    lines.push({ hostname, what, task, fields, line });
  }
  return lines;
}

Deno.test("celery events --dump shows a dts worker's events and its tasks' events as Celery's", async () => {
  await requireCelery();
  await using broker = await testBroker();
  const ns = testNamespace();
  const q = ns.queue("events_interop");
  await using transport = await openTransport(broker.url);
  const workerName = `dts-events-${ns.prefix}@interop`;
  const senderName = `gen-${ns.prefix}@interop`;
  await using dump = new CeleryProcess(
    ["-m", "celery", "-A", "celeryapp", "events", "--dump"],
    { brokerUrl: broker.url },
  );
  // Celery binds its queue some time after it starts: probe until it shows an event of ours.
  const probe = new EventEmitter({ transport, hostname: `probe-${ns.prefix}@interop` });
  await probe.prepare();
  const probing = setInterval(() => probe.send("worker-heartbeat", { freq: 0.1 }), 100);
  try {
    await dump.waitFor(new RegExp(`probe-${ns.prefix}@interop \\[`), 30_000);
  } finally {
    clearInterval(probing);
  }

  const attempts = new Map<string, number>();
  const worker = new Worker({
    transport,
    name: workerName,
    logger: testLogger(),
    events: true,
    heartbeatMs: 300,
    version: "0.1.0",
    tasks: [
      testTask("task_ev_ok", q, () => "Hello from dts"),
      testTask("task_ev_fail", q, () => {
        throw Object.assign(new Error("no such thing"), { name: "ValueError", retryable: false });
      }),
      testTask("task_ev_flaky", q, (ctx) => {
        const n = (attempts.get(ctx.id) ?? 0) + 1;
        attempts.set(ctx.id, n);
        if (n === 1) throw new Error("try again");
        return n;
      }),
    ],
  });
  try {
    await worker.start();
    const ids = { ok: crypto.randomUUID(), fail: crypto.randomUUID(), flaky: crypto.randomUUID() };
    const jobs = [
      { id: ids.ok, task: "task_ev_ok", queue: q, args: [1, "two"], kwargs: { x: 3 } },
      { id: ids.fail, task: "task_ev_fail", queue: q, args: [], kwargs: {} },
      { id: ids.flaky, task: "task_ev_flaky", queue: q, args: [], kwargs: {} },
    ];
    const sender = new EventEmitter({ transport, hostname: senderName });
    for await (const _ of dispatch({ transport, jobs, timeoutMs: 15_000, sentEvents: sender })) {
      // to the end
    }
    await dump.waitFor(new RegExp(`${workerName} \\[[^\\]]+\\] heartbeat:`), 10_000);
    await worker.stop({ drainTimeoutMs: 2000 });
    await dump.waitFor(new RegExp(`${workerName} \\[[^\\]]+\\] shutdown:`), 10_000);

    const lines = parseDump(dump.output);
    const ofWorker = lines.filter((l) => l.hostname === workerName);
    const whats = (id: string) => lines.filter((l) => l.task?.id === id).map((l) => l.what);
    assert.deepEqual(whats(ids.ok), [
      "task sent",
      "task received",
      "task started",
      "task succeeded",
    ], dump.output);
    assert.deepEqual(whats(ids.fail), [
      "task sent",
      "task received",
      "task started",
      "task failed",
    ]);
    assert.deepEqual(whats(ids.flaky), [
      "task sent",
      "task received",
      "task started",
      "task retried",
      "task received",
      "task started",
      "task succeeded",
    ]);

    const find = (what: string, id: string) =>
      lines.find((l) => l.what === what && l.task?.id === id)!;
    const sent = find("task sent", ids.ok);
    assert.equal(sent.hostname, senderName);
    assert.equal(sent.task?.name, "task_ev_ok");
    assert.match(sent.line, /task_ev_ok\([0-9a-f-]{36}\) args=\[1, 'two'\] kwargs=\{'x': 3\}/);
    assert.equal(sent.fields.get("queue"), q);
    const received = find("task received", ids.ok);
    assert.equal(received.hostname, workerName);
    assert.match(received.line, /args=\[1, 'two'\] kwargs=\{'x': 3\}/);
    assert.equal(received.fields.get("retries"), "0");
    assert.equal(received.fields.get("eta"), "None");
    // The dumper names a task by what task-received said, on each later line.
    const succeeded = find("task succeeded", ids.ok);
    assert.equal(succeeded.task?.name, "task_ev_ok");
    assert.equal(succeeded.fields.get("result"), "'Hello from dts'");
    assert.ok(Number(succeeded.fields.get("runtime")) >= 0);
    assert.equal(succeeded.fields.get("pid"), String(Deno.pid));
    assert.ok(succeeded.fields.has("local_received"), "Celery's receiver took it as an event");
    assert.equal(
      find("task failed", ids.fail).fields.get("exception"),
      "ValueError('no such thing')",
    );
    assert.equal(find("task retried", ids.flaky).fields.get("exception"), "Error('try again')");
    assert.equal(
      lines.filter((l) => l.what === "task received" && l.task?.id === ids.flaky)[1].fields.get(
        "retries",
      ),
      "1",
    );

    assert.equal(ofWorker[0].what, "started", "worker-online first");
    assert.equal(ofWorker.at(-1)!.what, "shutdown", "worker-offline last");
    const beat = ofWorker.find((l) => l.what === "heartbeat")!;
    assert.equal(beat.fields.get("sw_ident"), "dts");
    assert.equal(beat.fields.get("sw_ver"), "0.1.0");
    assert.equal(beat.fields.get("freq"), "0.3");
    assert.match(beat.fields.get("loadavg") ?? "", /^\[[\d.]+, [\d.]+, [\d.]+\]$/);
    assert.equal(ofWorker.at(-1)!.fields.get("processed"), "4");
    assert.equal(ofWorker.at(-1)!.fields.get("active"), "0");
    console.log(dump.output);
    assert.doesNotMatch(dump.output, /Traceback/, "Celery's receiver choked on nothing");
  } finally {
    await worker.stop({ drainTimeoutMs: 0 });
    await deleteQueues(broker.url, [q]);
  }
});
