/**
 * A real Celery 5.2 client (python3-celery, a subprocess) sends tasks to a
 * dts worker on the test broker: values, failures, retries, kombu 5.2 JSON
 * values, `eta`, `expires` and `timelimit`; and `celery inspect` sees the
 * dts worker.
 */
import assert from "node:assert/strict";
import type { TaskContext } from "../../src/plugin/task_plugin.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName, type Transport } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import {
  type CelerySend,
  type CelerySendReport,
  requireCelery,
  runCeleryCli,
  runCeleryClient,
  startCeleryClient,
} from "../helpers/celery.ts";
import { startWorker, testTask } from "../helpers/in_process.ts";

const COUNTDOWN_S = 1;
/** The worker runs an eta task once less than this is left (its slack plus bucket rounding). */
const ETA_EARLY_MS = 60;

class QuotaExceeded extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "QuotaExceeded";
  }
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

interface Run {
  id: string;
  task: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  retries: number;
  at: number;
}

/** The dts side: tasks that record every attempt. */
function dtsTasks(queue: string, runs: Run[]) {
  const record = (ctx: TaskContext) =>
    runs.push({
      id: ctx.id,
      task: ctx.name,
      args: ctx.args,
      kwargs: ctx.kwargs,
      retries: ctx.retries,
      at: Date.now(),
    });
  const noRetry = { maxRetries: 0, backoffMs: 50, factor: 2, maxBackoffMs: 1000, jitter: false };
  return [
    testTask("task_a", queue, (ctx) => {
      record(ctx);
      return { by: "dts", args: ctx.args, kwargs: ctx.kwargs };
    }),
    testTask("task_flaky", queue, (ctx) => {
      record(ctx);
      if (ctx.retries < 2) throw new Error(`transient ${ctx.retries}`);
      return { by: "dts", retries: ctx.retries };
    }),
    testTask("task_fail", queue, (ctx) => {
      record(ctx);
      throw namedError("ValueError", `boom ${ctx.kwargs.what}`);
    }, { retry: { ...noRetry, maxRetries: 1 } }),
    testTask("task_custom", queue, (ctx) => {
      record(ctx);
      throw new QuotaExceeded("quota of 3 exceeded");
    }),
    testTask("task_slow", queue, async (ctx) => {
      record(ctx);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(null);
        });
      });
      return "not cut short";
    }, { retry: noRetry }),
  ];
}

async function drainDeadLetters(
  transport: Transport,
  queue: string,
): Promise<Map<string, Record<string, unknown>>> {
  const dead = new Map<string, Record<string, unknown>>();
  for (;;) {
    const delivery = await transport.get(deadLetterQueueName(queue));
    if (delivery === null) return dead;
    dead.set(delivery.props.correlationId ?? "?", delivery.props.headers);
    await delivery.ack();
  }
}

Deno.test("a Celery 5.2 client's send_task() runs on a dts worker and get() sees the outcome", async (t) => {
  await requireCelery();
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  await using transport = await openTransport(broker.url);
  try {
    const runs: Run[] = [];
    await using _worker = await startWorker(transport, dtsTasks(queue, runs), {
      name: `dts-${ns.prefix}@test`,
      concurrency: 8,
    });

    const sends: Record<string, CelerySend> = {
      value: { task: "task_a", queue, args: [1, "two"], kwargs: { x: 3 } },
      kombu: {
        task: "task_a",
        queue,
        args: [
          { __py__: "datetime", value: "2026-01-02T03:04:05.123456+00:00" },
          { __py__: "uuid", value: "12345678123456781234567812345678" },
          { __py__: "decimal", value: "1.50" },
        ],
        kwargs: { when: { __py__: "datetime", value: "2026-01-02T03:04:05" } },
      },
      flaky: { task: "task_flaky", queue },
      fail: { task: "task_fail", queue, kwargs: { what: "x" } },
      custom: { task: "task_custom", queue },
      expired: {
        task: "task_a",
        queue,
        kwargs: { tag: "expired" },
        options: { countdown: COUNTDOWN_S, expires: 0.5 },
      },
      eta: { task: "task_a", queue, kwargs: { tag: "eta" }, options: { countdown: COUNTDOWN_S } },
      hard: { task: "task_slow", queue, options: { time_limit: 0.3 } },
      soft: { task: "task_slow", queue, options: { time_limit: 5, soft_time_limit: 0.2 } },
      // Waits in the delay ladder for 1 s; revoked meanwhile.
      revokedDelayed: {
        task: "task_a",
        queue,
        kwargs: { tag: "revoked" },
        options: { countdown: COUNTDOWN_S },
        revoke: { after_s: 0.3 },
      },
      revokedRunning: { task: "task_slow", queue, revoke: { after_s: 0.6, terminate: true } },
    };
    const names = Object.keys(sends);
    const reports = await runCeleryClient({
      brokerUrl: broker.url,
      queues: [queue],
      sends: Object.values(sends),
    });
    const report: Record<string, CelerySendReport> = Object.fromEntries(
      names.map((name, i) => [name, reports[i]]),
    );
    const runsOf = (name: string) => runs.filter((run) => run.id === report[name].id);
    const dead = await drainDeadLetters(transport, queue);

    await t.step("get() returns the value a dts task returned", () => {
      const { value, state, states, retries } = report.value;
      assert.deepEqual(value, { by: "dts", args: [1, "two"], kwargs: { x: 3 } });
      assert.equal(state, "SUCCESS");
      assert.deepEqual(states, ["SUCCESS"]);
      assert.equal(retries, 0);
      assert.equal(runsOf("value").length, 1);
    });

    await t.step("kombu 5.2 sends datetime, UUID and Decimal as strings that round-trip", () => {
      const [run] = runsOf("kombu");
      assert.deepEqual(run.args, [
        "2026-01-02T03:04:05.123456Z",
        "12345678-1234-5678-1234-567812345678",
        "1.50",
      ]);
      assert.deepEqual(run.kwargs, { when: "2026-01-02T03:04:05" });
      assert.equal(new Date(run.args[0] as string).toISOString(), "2026-01-02T03:04:05.123Z");
      assert.deepEqual(report.kombu.value, { by: "dts", args: run.args, kwargs: run.kwargs });
    });

    await t.step("retries on a dts worker are RETRY states to Celery, and count in retries", () => {
      const { value, states, retries } = report.flaky;
      assert.deepEqual(value, { by: "dts", retries: 2 });
      assert.deepEqual(states, ["RETRY", "RETRY", "SUCCESS"]);
      assert.equal(retries, 2);
      assert.deepEqual(runsOf("flaky").map((r) => r.retries), [0, 1, 2]);
    });

    await t.step("a failure raises the Python built-in exception with its message", () => {
      const { error, state, states, retries } = report.fail;
      assert.deepEqual(error, {
        type: "ValueError",
        module: "builtins",
        message: "boom x",
        real_class: true,
      });
      assert.equal(state, "FAILURE");
      assert.deepEqual(states, ["RETRY", "FAILURE"]);
      assert.equal(retries, 1);
      assert.equal(runsOf("fail").length, 2);
      const headers = dead.get(report.fail.id);
      assert.equal(headers?.["x-dts-reason"], "ValueError: boom x (gave up after 1 retries)");
    });

    await t.step("a dts error type Python lacks is raised under its own name and message", () => {
      const { error, state, states } = report.custom;
      assert.deepEqual(error, {
        type: "QuotaExceeded",
        module: "celery.exceptions",
        message: "quota of 3 exceeded",
        real_class: false,
      });
      assert.equal(state, "FAILURE");
      assert.deepEqual(states, ["FAILURE"]);
      assert.equal(runsOf("custom").length, 1, "not retryable: one attempt");
      assert.match(String(dead.get(report.custom.id)?.["x-dts-reason"]), /not retryable/);
    });

    await t.step("countdown: the task runs no earlier than its eta", () => {
      const [run] = runsOf("eta");
      assert.ok(run, "the eta task ran");
      const etaMs = report.eta.sent_at * 1000 + COUNTDOWN_S * 1000;
      assert.ok(run.at >= etaMs - ETA_EARLY_MS, `ran ${etaMs - run.at} ms before its eta`);
      assert.deepEqual(report.eta.value, { by: "dts", args: [], kwargs: { tag: "eta" } });
    });

    await t.step("expires: an expired task is not run, REVOKED to Celery and dead-lettered", () => {
      const { error, state } = report.expired;
      assert.equal(runsOf("expired").length, 0);
      assert.equal(state, "REVOKED");
      assert.equal(error?.type, "TaskRevokedError");
      assert.equal(error?.real_class, true, "Celery's own TaskRevokedError class");
      assert.match(error?.message ?? "", /^Task expired at 20\d\d-/);
      const headers = dead.get(report.expired.id);
      assert.match(String(headers?.["x-dts-reason"]), /^Task expired at /);
      assert.equal(headers?.["x-dts-error-type"], "TaskRevokedError");
    });

    await t.step(
      "app.control.revoke(): a delayed task is not run, a running one with terminate=True is stopped; both REVOKED to Celery",
      () => {
        const delayed = report.revokedDelayed;
        assert.equal(runsOf("revokedDelayed").length, 0);
        assert.equal(delayed.state, "REVOKED");
        assert.equal(delayed.error?.type, "TaskRevokedError");
        assert.equal(delayed.error?.real_class, true, "Celery's own TaskRevokedError class");
        const running = report.revokedRunning;
        assert.equal(runsOf("revokedRunning").length, 1, "it had started");
        assert.equal(running.state, "REVOKED");
        assert.equal(running.error?.type, "TaskRevokedError");
        assert.ok(
          !dead.has(delayed.id) && !dead.has(running.id),
          "revoked on purpose: not dead-lettered",
        );
      },
    );

    await t.step("time_limit and soft_time_limit cut the attempt at the earlier limit", () => {
      for (const [name, ms] of [["hard", 300], ["soft", 200]] as const) {
        const { error, state } = report[name];
        assert.equal(state, "FAILURE", name);
        assert.equal(error?.type, "TaskTimeoutError", name);
        assert.equal(error?.message, `Task did not finish within ${ms} ms`, name);
        assert.equal(runsOf(name).length, 1, name);
        assert.match(String(dead.get(report[name].id)?.["x-dts-reason"]), /TaskTimeoutError/);
      }
    });

    await t.step(
      "dead letters hold exactly the failed and expired tasks; the queue is empty",
      async () => {
        const expected = ["fail", "custom", "expired", "hard", "soft"].map((n) => report[n].id);
        assert.deepEqual([...dead.keys()].sort(), expected.sort());
        assert.equal((await transport.inspectQueue(queue))?.messages, 0);
      },
    );
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("celery inspect ping and inspect active see a dts worker and its running task", async () => {
  await requireCelery();
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("queue_a");
  await using transport = await openTransport(broker.url);
  try {
    const started = Promise.withResolvers<string>();
    const release = Promise.withResolvers<void>();
    const block = testTask("task_block", queue, async (ctx) => {
      started.resolve(ctx.id);
      await release.promise;
      return "released";
    });
    const name = `dts-${ns.prefix}@test`;
    await using _worker = await startWorker(transport, [block], { name });
    const celery = { brokerUrl: broker.url, queues: [queue] };

    const ping = await runCeleryCli(["inspect", "ping", "-d", name, "-j", "-t", "5"], celery);
    assert.equal(ping.code, 0, ping.stderr);
    assert.deepEqual(JSON.parse(ping.stdout), { [name]: { ok: "pong" } });

    await using client = startCeleryClient({
      ...celery,
      sends: [{ task: "task_block", queue, args: [7], kwargs: { k: "v" } }],
    });
    try {
      const id = await started.promise;
      const active = await runCeleryCli(["inspect", "active", "-d", name, "-j", "-t", "5"], celery);
      assert.equal(active.code, 0, active.stderr);
      const tasks = JSON.parse(active.stdout)[name];
      assert.equal(tasks.length, 1);
      assert.deepEqual(
        [tasks[0].id, tasks[0].name, tasks[0].args, tasks[0].kwargs, tasks[0].hostname],
        [id, "task_block", [7], { k: "v" }, name],
      );
      assert.equal(tasks[0].delivery_info.routing_key, queue);
    } finally {
      release.resolve();
    }
    const [report] = await client.report;
    assert.equal(report.value, "released");

    const idle = await runCeleryCli(["inspect", "active", "-d", name, "-j", "-t", "5"], celery);
    assert.deepEqual(JSON.parse(idle.stdout), { [name]: [] });
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("Celery's apply_async(priority=N) is honoured by a dts worker on a queue both declare with the same x-max-priority", async () => {
  await requireCelery();
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_priority");
  await using transport = await openTransport(broker.url);
  try {
    const order: string[] = [];
    const task = testTask("task_a", queue, (ctx) => {
      order.push(String(ctx.kwargs.tag));
      return { by: "dts" };
    }, { maxPriority: 9 });
    const sends: CelerySend[] = [
      ...Array.from(
        { length: 20 },
        (_, i) => ({ task: "task_a", queue, kwargs: { tag: `low${i}` } }),
      ),
      ...Array.from({ length: 3 }, (_, i) => ({
        task: "task_a",
        queue,
        kwargs: { tag: `high${i}` },
        options: { priority: 9 },
      })),
    ];
    // Everything waits in the queue before the dts worker starts.
    await using client = startCeleryClient({
      brokerUrl: broker.url,
      queues: [queue],
      maxPriority: 9,
      sends,
    });
    await client.sent;
    await using _worker = await startWorker(transport, [task], { concurrency: 1 });
    const report = await client.report;
    assert.ok(
      report.every((r) => r.state === "SUCCESS"),
      JSON.stringify(report.map((r) => r.state)),
    );
    assert.deepEqual(order.slice(0, 3), ["high0", "high1", "high2"], order.join(" "));
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
