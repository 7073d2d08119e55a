/**
 * Revoke on a real RabbitMQ (`dts revoke`'s client, `revokeTasks()`): a
 * revoked task is not run wherever it waits (queued before any worker
 * started, queued behind another, in a retry's delay), and with terminate a
 * running one is stopped; each time its sender sees REVOKED.
 */
import assert from "node:assert/strict";
import { revokeTasks } from "../../src/client/revoke_tasks.ts";
import type { TaskEvent } from "../../src/report/task_event.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { waitUntil } from "../helpers/test_kit.ts";

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

Deno.test("a task revoked while queued and no worker runs is not run by a worker that starts later: REVOKED", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("revoke_before_start");
  await using transport = await openTransport(broker.url);
  try {
    const ran: string[] = [];
    const task = testTask("task_revoke_before", q, (ctx) => {
      ran.push(ctx.id);
      return "ran";
    });
    let worker: AsyncDisposable | null = null;
    let revokedAt = 0;
    const { outcomes } = await runDispatch(transport, [
      { task: task.name, queue: q, args: [1], kwargs: {} },
      { task: task.name, queue: q, args: [2], kwargs: {} },
    ], {
      onEvent: (event) => {
        // Revoke the first once both are sent, then start the only worker.
        if (event.type !== "SENT" || worker !== null || event.id === undefined) return;
        worker = {} as AsyncDisposable;
        void revokeTasks(transport, [event.id], { reason: "not needed" }).then(async () => {
          revokedAt = Date.now();
          worker = await startWorker(transport, [task]);
        });
      },
    });
    await waitUntil("the worker to start", () => revokedAt > 0 && "stop" in (worker ?? {}), 5000);
    await (worker as unknown as AsyncDisposable)[Symbol.asyncDispose]();
    assert.deepEqual(outcomes.map((o) => o.status), ["REVOKED", "SUCCESS"]);
    assert.equal(outcomes[0].error?.type, "TaskRevokedError");
    assert.match(String(outcomes[0].error?.message), /not needed/);
    assert.deepEqual(ran, [outcomes[1].id], "the revoked task never ran");
    // Taken and acknowledged by the worker (before the second), not dead-lettered: nothing to replay.
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
    assert.equal((await transport.inspectQueue(`${q}.dead`))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a task revoked while it waits behind a running one is skipped when its turn comes; one revoked in a retry's delay is not run again", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("revoke_live");
  await using transport = await openTransport(broker.url);
  try {
    const runs = new Map<string, number>();
    const task = testTask("task_revoke_live", q, async (ctx) => {
      runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
      const mode = ctx.kwargs.mode;
      if (mode === "block") await sleep(800);
      if (mode === "fail") throw new Error("first attempt fails; the retry waits 1.5 s");
      return mode;
    }, { retry: { maxRetries: 3, backoffMs: 1500, factor: 1, maxBackoffMs: 1500, jitter: false } });
    await using _worker = await startWorker(transport, [task], { concurrency: 1 });
    const ids = new Map<string, string>();
    const revokes: { mode: string; at: number }[] = [];
    const finals = new Map<string, TaskEvent>();
    const { outcomes } = await runDispatch(transport, [
      { task: task.name, queue: q, args: [], kwargs: { mode: "fail" } },
      { task: task.name, queue: q, args: [], kwargs: { mode: "block" } },
      { task: task.name, queue: q, args: [], kwargs: { mode: "queued" } },
    ], {
      timeoutMs: 15_000,
      onEvent: (event) => {
        if (event.type === "SENT") ids.set(["fail", "block", "queued"][ids.size], event.id);
        const revoke = (mode: string) => {
          revokes.push({ mode, at: Date.now() });
          void revokeTasks(transport, [ids.get(mode)!]);
        };
        // The blocking task runs: the third one waits in the queue behind it.
        if (event.type === "STARTED" && event.id === ids.get("block")) revoke("queued");
        if (event.type === "RETRY" && event.id === ids.get("fail")) revoke("fail");
        if (event.type === "REVOKED" || event.type === "SUCCESS") finals.set(event.id, event);
      },
    });
    const byMode = (mode: string) => outcomes.find((o) => o.id === ids.get(mode))!;
    assert.equal(byMode("block").status, "SUCCESS");
    assert.equal(byMode("queued").status, "REVOKED");
    assert.equal(byMode("fail").status, "REVOKED");
    assert.equal(runs.get(ids.get("queued")!), undefined, "the queued one never ran");
    assert.equal(runs.get(ids.get("fail")!), 1, "the delayed retry never ran");
    for (const { mode, at } of revokes) {
      console.log(
        `revoke ${mode} → REVOKED at the dispatcher: ${finals.get(ids.get(mode)!)!.at - at} ms`,
      );
    }
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("revoke --terminate stops a running task (ctx.signal aborts): REVOKED, not retried, and its slot takes the next task", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("revoke_terminate");
  await using transport = await openTransport(broker.url);
  try {
    const aborted: string[] = [];
    const task = testTask("task_revoke_terminate", q, async (ctx) => {
      if (ctx.kwargs.mode !== "long") return "next one ran";
      await sleep(20_000, ctx.signal);
      if (ctx.signal.aborted) aborted.push(String((ctx.signal.reason as Error).name));
      return "finished anyway";
    });
    await using worker = await startWorker(transport, [task], { concurrency: 1 });
    let longId = "";
    let revokedAt = 0;
    const { outcomes, events } = await runDispatch(transport, [
      { task: task.name, queue: q, args: [], kwargs: { mode: "long" } },
      { task: task.name, queue: q, args: [], kwargs: { mode: "short" } },
    ], {
      timeoutMs: 15_000,
      onEvent: (event) => {
        if (event.type === "SENT" && longId === "") longId = event.id;
        if (event.type === "STARTED" && event.id === longId) {
          revokedAt = Date.now();
          void revokeTasks(transport, [longId], { terminate: true, reason: "stop it" });
        }
      },
    });
    const long = outcomes.find((o) => o.id === longId)!;
    assert.equal(long.status, "REVOKED");
    assert.equal(long.error?.type, "TaskRevokedError");
    assert.match(String(long.error?.message), /stop it/);
    assert.equal(outcomes.find((o) => o.id !== longId)?.status, "SUCCESS");
    assert.deepEqual(aborted, ["TaskRevokedError"], "ctx.signal aborted with the revoke");
    assert.ok(!events.some((e) => e.type === "RETRY"), "a terminated task is not retried");
    const revokedEvent = events.find((e) => e.type === "REVOKED")!;
    console.log(
      `revoke --terminate of a running task → REVOKED: ${revokedEvent.at - revokedAt} ms`,
    );
    assert.ok(revokedEvent.at - revokedAt < 5000, "stopped long before its 20 s");
    await waitUntil("the slot to be free", () => worker.inFlight === 0, 2000);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});
