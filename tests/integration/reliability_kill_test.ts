/**
 * A worker process killed with SIGKILL loses nothing: not a running task, not
 * a retry waiting out its backoff, not a Celery message with a future eta.
 * Workers here are real `dts worker` processes.
 */
import assert from "node:assert/strict";
import type { TaskEvent } from "../../src/report/task_event.ts";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { decodeResultMessage } from "../../src/protocol/celery_result_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import {
  deleteQueues,
  messagesInDelayLadder,
  testBroker,
  testNamespace,
} from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import {
  drainQueue,
  FIXTURE_PLUGINS,
  spawnWorker,
  tempConfig,
  waitUntil,
} from "../helpers/test_kit.ts";

function finals(events: TaskEvent[]): Map<string, TaskEvent[]> {
  const byId = new Map<string, TaskEvent[]>();
  for (const e of events) {
    if (e.type === "SUCCESS" || e.type === "FAILURE" || e.type === "TIMEOUT") {
      byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
    }
  }
  return byId;
}

Deno.test("SIGKILL of a worker mid-task: another worker finishes every task, one result each", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("kill");
  await using config = await tempConfig(
    `tasks:\n  slow:\n    name: task_slow\n    queue: ${q}\n`,
  );
  await using transport = await openTransport(broker.url);
  try {
    const args = ["--task", "slow", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good];
    await using victim = await spawnWorker([...args, "--concurrency", "2", "--name", "victim@t"], {
      brokerUrl: broker.url,
    });
    const jobs = Array.from({ length: 4 }, () => ({
      task: "task_slow",
      queue: q,
      args: [],
      kwargs: { ms: 1500 },
    }));
    const dispatching = runDispatch(transport, jobs, { timeoutMs: 30_000 });
    await victim.waitFor(/"Task started"[\s\S]*"Task started"/);
    victim.kill("SIGKILL");
    assert.equal((await victim.finished()).code, 137);
    await using _rescuer = await spawnWorker(
      [...args, "--concurrency", "4", "--name", "rescuer@t"],
      {
        brokerUrl: broker.url,
      },
    );
    const { events, outcomes } = await dispatching;

    assert.equal(outcomes.length, 4);
    assert.ok(outcomes.every((o) => o.status === "SUCCESS" && o.result === "slept 1500 ms"));
    assert.ok(outcomes.every((o) => o.worker === "rescuer@t"), "the victim finished nothing");
    const byId = finals(events);
    assert.equal(byId.size, 4);
    assert.ok([...byId.values()].every((list) => list.length === 1));
    assert.deepEqual(await transport.inspectQueue(q), { messages: 0, consumers: 1 });
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a retry survives SIGKILL of its worker during the backoff wait", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("retry_kill");
  await using config = await tempConfig(
    `tasks:\n  fail_once:\n    name: task_fail_once\n    queue: ${q}\n`,
  );
  await using transport = await openTransport(broker.url);
  try {
    const args = ["--task", "fail_once", "--config", config.path];
    const plugins = ["--plugins", FIXTURE_PLUGINS.reliability];
    await using first = await spawnWorker([...args, ...plugins, "--name", "first@t"], {
      brokerUrl: broker.url,
    });
    let waiting: { delay: number; task: number } | null = null;
    let second: Awaited<ReturnType<typeof spawnWorker>> | null = null;
    const started = (async () => {
      await waitUntil("the RETRY", () => waiting !== null, 20_000);
      second = await spawnWorker([...args, ...plugins, "--name", "second@t"], {
        brokerUrl: broker.url,
      });
    })();
    const { events, outcomes } = await runDispatch(
      transport,
      [{ task: "task_fail_once", queue: q, args: [], kwargs: {} }],
      {
        timeoutMs: 30_000,
        onEvent: (e) => {
          if (e.type !== "RETRY") return;
          first.kill("SIGKILL");
          Promise.all([messagesInDelayLadder(transport), transport.inspectQueue(q)]).then(
            ([delay, task]) =>
              waiting ??= { delay: Math.min(delay, 1), task: task?.messages ?? -1 },
          );
        },
      },
    );
    await started;
    await using _second = second!;

    assert.equal((await first.finished()).code, 137);
    assert.deepEqual(
      waiting,
      { delay: 1, task: 0 },
      `the retry waited in the broker\n${first.stderr}`,
    );
    assert.deepEqual(
      events.filter((e) => e.type === "RETRY").map((e) => e.type === "RETRY" && e.retries),
      [1],
    );
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0].status, "SUCCESS");
    assert.equal(outcomes[0].retries, 1);
    assert.equal(outcomes[0].worker, "second@t");
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
    assert.equal((await transport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("a Celery message with a future eta is held by the broker across a worker SIGKILL and runs once, not before its eta", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const q = ns.queue("eta");
  const replyQueue = ns.queue("eta_reply");
  await using config = await tempConfig(
    `tasks:\n  clock:\n    name: task_clock\n    queue: ${q}\n`,
  );
  await using transport = await openTransport(broker.url);
  try {
    await transport.assertQueue(replyQueue);
    const args = ["--task", "clock", "--config", config.path];
    const plugins = ["--plugins", FIXTURE_PLUGINS.reliability, "--log-level", "debug"];
    // Concurrency 1 means prefetch 1: the broker hands out the probe only once
    // it has the eta message's ack, so the SIGKILL below cannot beat that ack.
    await using first = await spawnWorker(
      [...args, ...plugins, "--name", "first@t", "--concurrency", "1"],
      { brokerUrl: broker.url },
    );
    const eta = Date.now() + 1500;
    const message = createTaskMessage("task_clock", {
      eta: new Date(eta).toISOString(),
      replyTo: replyQueue,
    });
    const probe = createTaskMessage("task_clock", { replyTo: replyQueue });
    for (const m of [message, probe]) {
      const { body, props } = encodeTaskMessage(m);
      await transport.publish(q, body, props);
    }
    await waitUntil(
      "the probe's result",
      async () => ((await transport.inspectQueue(replyQueue))?.messages ?? 0) > 0,
    );
    first.kill("SIGKILL");
    await first.finished();
    assert.ok(await messagesInDelayLadder(transport) >= 1, "held by the broker");
    // The SIGKILL may beat the probe's own ack (at-least-once): only the probe may be back.
    const back = await drainQueue(transport, q);
    assert.ok(
      back.every((d) => d.props.headers.id === probe.id),
      "the eta message was acked before the probe ran",
    );

    await using _second = await spawnWorker([...args, ...plugins, "--name", "second@t"], {
      brokerUrl: broker.url,
    });
    await waitUntil(
      "the eta task's result",
      async () => ((await transport.inspectQueue(replyQueue))?.messages ?? 0) > 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show by now
    const results = [];
    for (let d = await transport.get(replyQueue); d !== null; d = await transport.get(replyQueue)) {
      await d.ack();
      results.push(decodeResultMessage(d.body, d.props));
    }
    const etaResults = results.filter((r) => r.taskId === message.id);
    assert.equal(etaResults.length, 1, "ran exactly once");
    assert.equal(etaResults[0].status, "SUCCESS");
    assert.equal(etaResults[0].worker, "second@t");
    assert.ok(
      (etaResults[0].result as number) >= eta - 25,
      `ran ${eta - (etaResults[0].result as number)} ms before its eta`,
    );
    assert.equal((await transport.inspectQueue(q))?.messages, 0);
  } finally {
    await deleteQueues(broker.url, [q, replyQueue]);
  }
});
