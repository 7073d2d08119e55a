/**
 * The worker's delivery path on `memory://` with a manual clock: every way a
 * message can end, deterministically, without a broker.
 */
import assert from "node:assert/strict";
import { inlineRunner } from "../attempt/inline_runner.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { BrokerError, MessageTooLargeError } from "../errors.ts";
import { createLogger, type Logger, silentLogger } from "../log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { decodeResultMessage, type ResultMessage } from "../protocol/celery_result_message.ts";
import {
  createTaskMessage,
  type CreateTaskMessageOptions,
  decodeTaskMessage,
  encodeTaskMessage,
  type TaskMessage,
} from "../protocol/celery_task_message.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { deadLetterQueueName, type Delivery, type PublishOptions } from "../transport/transport.ts";
import { Worker } from "./worker.ts";

const Q = "queue_t";
const REPLY = "reply_t";

/** A transport whose publishes to `failOn` throw what `fail()` makes, `times` times. */
class FaultyTransport extends MemoryTransport {
  failOn: string | null = null;
  times = 0;
  fail: () => Error = () => new BrokerError("injected", { recoverable: true });
  override publish(
    routingKey: string,
    body: Uint8Array,
    options: PublishOptions = {},
  ): Promise<void> {
    if (routingKey === this.failOn && this.times > 0) {
      this.times--;
      return Promise.reject(this.fail());
    }
    return super.publish(routingKey, body, options);
  }
}

interface Harness extends AsyncDisposable {
  clock: ManualClock;
  broker: MemoryBroker;
  transport: FaultyTransport;
  worker: Worker;
  send(options?: CreateTaskMessageOptions & { task?: string }): Promise<string>;
  results(): Promise<ResultMessage[]>;
  dead(): Promise<Delivery[]>;
  depth(queue?: string): Promise<number>;
}

function task(run: TaskDefinition["run"], overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    name: "task_t",
    queue: Q,
    retry: { ...DEFAULT_RETRY_SETTINGS, backoffMs: 1000, jitter: false },
    timeoutMs: null,
    run,
    source: "test",
    ...overrides,
  };
}

async function harness(
  tasks: TaskDefinition[],
  options: { concurrency?: number; logger?: Logger } = {},
): Promise<Harness> {
  const clock = new ManualClock(Date.parse("2026-12-01T00:00:00Z"));
  const broker = new MemoryBroker({ clock });
  const transport = new FaultyTransport(broker, { clock });
  await transport.assertQueue(REPLY);
  const worker = new Worker({
    transport,
    tasks,
    name: "w@test",
    concurrency: options.concurrency ?? 1,
    logger: options.logger ?? silentLogger,
    clock,
    runner: inlineRunner({ clock }),
  });
  await worker.start();
  const take = async (queue: string): Promise<Delivery[]> => {
    const out: Delivery[] = [];
    for (let d = await transport.get(queue); d !== null; d = await transport.get(queue)) {
      await d.ack();
      out.push(d);
    }
    return out;
  };
  return {
    clock,
    broker,
    transport,
    worker,
    async send(opts = {}) {
      const message = createTaskMessage(opts.task ?? "task_t", { replyTo: REPLY, ...opts });
      const { body, props } = encodeTaskMessage(message);
      await transport.publish(Q, body, props);
      return message.id;
    },
    async results() {
      return (await take(REPLY)).map((d) => decodeResultMessage(d.body, d.props));
    },
    dead: () => take(deadLetterQueueName(Q)),
    async depth(queue = Q) {
      return (await transport.inspectQueue(queue))?.messages ?? -1;
    },
    async [Symbol.asyncDispose]() {
      await worker.stop({ drainTimeoutMs: 0 });
      await transport.close();
    },
  };
}

/** Let the worker run what is due: real turns of the event loop, no time passes on the clock. */
async function settle(check: () => boolean | Promise<boolean> = () => true): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (await check()) return;
  }
  throw new Error("the worker did not get there");
}

Deno.test("Worker: a task that succeeds sends SUCCESS and leaves nothing behind", async () => {
  await using h = await harness([task((ctx) => `hi ${ctx.args[0]}`)]);
  const id = await h.send({ args: [1] });
  await settle(async () => (await h.depth(REPLY)) === 1);
  const [result] = await h.results();
  assert.deepEqual([result.taskId, result.status, result.result], [id, "SUCCESS", "hi 1"]);
  assert.equal(await h.depth(), 0);
  assert.equal((await h.dead()).length, 0);
});

Deno.test("Worker: a failing attempt is retried after the backoff, held by the broker", async () => {
  let attempts = 0;
  await using h = await harness([
    task(() => {
      if (++attempts === 1) throw new Error("first fails");
      return "second works";
    }),
  ]);
  await h.send();
  await settle(() => attempts === 1);
  await settle(async () => (await h.results()).some((r) => r.status === "RETRY"));
  assert.equal(attempts, 1, "not before the backoff");
  h.clock.tick(999);
  await settle();
  assert.equal(attempts, 1);
  h.clock.tick(20); // 1000 ms, rounded up to the broker's 16 ms steps
  await settle(() => attempts === 2);
  await settle(async () => (await h.depth(REPLY)) === 1);
  const [result] = await h.results();
  assert.deepEqual([result.status, result.result, result.retries], ["SUCCESS", "second works", 1]);
});

Deno.test("Worker: a task that fails for good is dead-lettered with why, and its sender told", async () => {
  const failing = task(() => {
    throw Object.assign(new TypeError("bad input"), { retryable: false });
  });
  await using h = await harness([failing]);
  await h.send();
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  const [dead] = await h.dead();
  assert.equal(dead.props.headers["x-dts-reason"], "TypeError: bad input (not retryable)");
  const [result] = await h.results();
  assert.equal(result.status, "FAILURE");
});

Deno.test("Worker: unknown and expired tasks are dead-lettered, never run", async () => {
  let ran = 0;
  await using h = await harness([task(() => ran++)]);
  await h.send({ task: "task_nobody" });
  await h.send({ expires: new Date(h.clock.now() - 1000).toISOString() });
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 2);
  const reasons = (await h.dead()).map((d) => d.props.headers["x-dts-error-type"]).sort();
  assert.deepEqual(reasons, ["NotRegistered", "TaskRevokedError"]);
  assert.equal(ran, 0);
  const states = (await h.results()).map((r) => r.status).sort();
  assert.deepEqual(states, ["FAILURE", "REVOKED"]);
});

Deno.test("Worker: a task with a future eta waits in the broker until then", async () => {
  let ranAt = 0;
  await using h = await harness([task(() => (ranAt = h.clock.now()))]);
  const eta = h.clock.now() + 5000;
  await h.send({ eta: new Date(eta).toISOString() });
  await settle(async () => (await h.depth()) === 0 && h.worker.inFlight === 0);
  h.clock.tick(4900);
  await settle();
  assert.equal(ranAt, 0, "not before its eta");
  h.clock.tick(200);
  await settle(() => ranAt > 0);
  assert.ok(ranAt >= eta);
});

Deno.test("Worker: an attempt past its time limit fails with TaskTimeoutError", async () => {
  await using h = await harness([
    task(() => new Promise(() => {}), {
      timeoutMs: 1000,
      retry: { ...DEFAULT_RETRY_SETTINGS, maxRetries: 0 },
    }),
  ]);
  await h.send();
  await settle(() => h.worker.inFlight === 1);
  h.clock.tick(1000);
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  const [dead] = await h.dead();
  assert.equal(dead.props.headers["x-dts-error-type"], "TaskTimeoutError");
});

Deno.test("Worker: a message another worker died holding is counted on a copy, and runs", async () => {
  let ran = 0;
  await using h = await harness([task(() => ran++)]);
  await h.worker.stop({ drainTimeoutMs: 0 });
  await h.send();
  await diedHolding(h);
  const seen: unknown[] = [];
  const counting = new Worker({
    transport: h.transport,
    tasks: [task((ctx) => seen.push(ctx.retries))],
    name: "w2@test",
    logger: silentLogger,
    clock: h.clock,
    runner: inlineRunner({ clock: h.clock }),
  });
  await counting.start();
  await settle(() => seen.length === 1);
  await counting.stop({ drainTimeoutMs: 0 });
  assert.deepEqual(seen, [0], "the counted copy ran once, as the same attempt");
  assert.equal(ran, 0);
});

Deno.test("Worker: a message back a fourth time after workers died holding it is dead-lettered as poison", async () => {
  let ran = 0;
  await using h = await harness([task(() => ran++)]);
  await h.worker.stop({ drainTimeoutMs: 0 });
  const id = await h.send({ headers: { "x-dts-redeliveries": 3 } });
  await diedHolding(h);
  const judging = new Worker({
    transport: h.transport,
    tasks: [task(() => ran++)],
    name: "w3@test",
    logger: silentLogger,
    clock: h.clock,
    runner: inlineRunner({ clock: h.clock }),
  });
  await judging.start();
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  await judging.stop({ drainTimeoutMs: 0 });
  const [dead] = await h.dead();
  assert.equal(dead.props.headers.id, id);
  assert.equal(dead.props.headers["x-dts-error-type"], "WorkerLostError");
  assert.equal(dead.props.headers["x-dts-redeliveries"], 4);
  assert.match(String(dead.props.headers["x-dts-reason"]), /worker that died 4 times/);
  assert.equal(ran, 0, "poison never runs");
  const [result] = await h.results();
  assert.equal(result.status, "FAILURE", "its sender is told");
});

/** Another worker takes the queue's next message and dies before settling it. */
async function diedHolding(h: Harness): Promise<void> {
  const other = new MemoryTransport(h.broker, { clock: h.clock });
  const taken = await other.get(Q);
  assert.ok(taken);
  await other.close();
}

Deno.test("Worker: a reply_to naming a task queue gets no result: the message is dead-lettered", async () => {
  let ran = 0;
  await using h = await harness([task(() => ran++)]);
  const message = createTaskMessage("task_t", { replyTo: Q });
  const { body, props } = encodeTaskMessage(message);
  await h.transport.publish(Q, body, props);
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  const [dead] = await h.dead();
  assert.match(String(dead.props.headers["x-dts-reason"]), /names a task queue/);
  assert.equal(ran, 0);
  assert.equal(await h.depth(), 0, "nothing was published into the task queue");
});

Deno.test("Worker: a result larger than the broker takes becomes a FAILURE the sender sees", async () => {
  await using h = await harness([task(() => "x".repeat(1000))]);
  h.transport.failOn = REPLY;
  h.transport.times = 1;
  h.transport.fail = () => new MessageTooLargeError("too large", { bytes: 1200, maxBytes: 1000 });
  await h.send();
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  const [result] = await h.results();
  assert.equal(result.status, "FAILURE");
  assert.match(JSON.stringify(result.result), /ResultTooLargeError/);
  const [dead] = await h.dead();
  assert.equal(dead.props.headers["x-dts-error-type"], "ResultTooLargeError");
  assert.equal(await h.depth(), 0);
});

Deno.test("Worker: a transient publish failure is tried again; a lasting one ends the message settled", async () => {
  await using h = await harness([task(() => "ok")]);
  h.transport.failOn = REPLY;
  h.transport.times = 1;
  await h.send();
  await settle(() => h.transport.times === 0); // the first result publish failed
  await settle();
  h.clock.tick(500); // the republish backoff
  await settle(async () => (await h.depth(REPLY)) === 1);
  assert.equal((await h.results())[0].status, "SUCCESS");

  // A refusal that lasts: the message must not stay unacknowledged.
  h.transport.times = 10;
  h.transport.fail = () => new BrokerError("refused for good", { recoverable: false });
  await h.send();
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  const [dead] = await h.dead();
  assert.match(
    String(dead.props.headers["x-dts-reason"]),
    /Cannot record the task's outcome: BrokerError: refused for good/,
  );
  assert.equal(await h.depth(), 0);
});

Deno.test("Worker: a dead-letter queue deleted while the worker runs is declared again", async () => {
  await using h = await harness([task(() => {
    throw Object.assign(new Error("no"), { retryable: false });
  })]);
  await h.transport.deleteQueue(deadLetterQueueName(Q));
  await h.send();
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 1);
  assert.equal((await h.dead()).length, 1);
  assert.equal(await h.depth(), 0);
});

Deno.test("Worker: stopping releases prefetched messages uncounted and lets the running one finish", async () => {
  let release = (): void => {};
  let started = 0;
  await using h = await harness([
    task(() => {
      started++;
      return new Promise<string>((resolve) => (release = () => resolve("done")));
    }),
  ], { concurrency: 1 });
  await h.send();
  await h.send();
  await settle(() => started === 1);
  const stopping = h.worker.stop({ drainTimeoutMs: 10_000 });
  await settle();
  release();
  await stopping;
  assert.equal(started, 1);
  const left = await h.transport.get(Q);
  assert.ok(left, "the second message is back");
  assert.equal(left.redelivered, false, "released, not requeued: not counted as a redelivery");
  await left.ack();
  assert.equal((await h.results()).filter((r) => r.status === "SUCCESS").length, 1);
});

Deno.test("Worker: readiness says which queue it does not consume, and it consumes again", async () => {
  await using h = await harness([task(() => "ok")]);
  assert.equal(h.worker.ready(), true);
  await h.transport.deleteQueue(Q); // the broker cancels the consumer
  await settle(() => !h.worker.ready());
  assert.match(h.worker.notReadyReason(), /^not consuming "queue_t"/);
  h.clock.tick(200); // the resume backoff
  await settle(() => h.worker.ready());
  await h.send();
  await settle(async () => (await h.depth(REPLY)) === 1);
  assert.equal((await h.results())[0].status, "SUCCESS");
});

/** A Celery signature dict as a client embeds it. */
function sig(
  task: string,
  options: Record<string, unknown> = {},
  more: Record<string, unknown> = {},
) {
  return { task, args: [], kwargs: {}, options, subtask_type: null, immutable: false, ...more };
}

async function sendWithEmbed(
  h: Harness,
  embed: Partial<TaskMessage["embed"]>,
  args: unknown[] = [2],
) {
  const message = createTaskMessage("task_t", { replyTo: REPLY, args });
  message.embed = { callbacks: null, errbacks: null, chain: null, chord: null, ...embed };
  const { body, props } = encodeTaskMessage(message);
  await h.transport.publish(Q, body, props);
  return message;
}

Deno.test("Worker: a Celery chain sends its next step with the result prepended, the rest of the chain, root and parent ids, before the ack", async () => {
  await using h = await harness([task((ctx) => (ctx.args[0] as number) * 10)]);
  await h.transport.assertTaskQueue("queue_next");
  const last = sig("task_c", { queue: "queue_next", task_id: "id-c", reply_to: REPLY });
  const next = sig("task_b", { queue: "queue_next", task_id: "id-b", reply_to: REPLY }, {
    args: [5],
  });
  const sent = await sendWithEmbed(h, { chain: [last, next] });
  await settle(async () => (await h.depth("queue_next")) === 1);
  const delivery = await h.transport.get("queue_next");
  assert.ok(delivery);
  const step = decodeTaskMessage(delivery.body, delivery.props);
  assert.deepEqual(
    [step.task, step.id, step.args, step.rootId, step.parentId, step.replyTo],
    ["task_b", "id-b", [20, 5], sent.id, sent.id, REPLY],
  );
  assert.deepEqual(step.embed.chain, [last], "the rest of the chain travels on");
  const [result] = await h.results();
  assert.deepEqual([result.taskId, result.status, result.result], [sent.id, "SUCCESS", 20]);
});

Deno.test("Worker: links get the result (an immutable one does not); error links get the failed task's id; the rest of a broken chain fails", async () => {
  await using h = await harness([task((ctx) => {
    if (ctx.args[0] === "fail") throw Object.assign(new Error("no"), { retryable: false });
    return "ok";
  })]);
  await h.transport.assertTaskQueue("queue_next");
  await sendWithEmbed(h, {
    callbacks: [
      sig("task_link", { queue: "queue_next" }, { args: [1] }),
      sig("task_fixed", { queue: "queue_next" }, { args: [9], immutable: true }),
    ],
  }, ["go"]);
  await settle(async () => (await h.depth("queue_next")) === 2);
  const links = [];
  for (let d = await h.transport.get("queue_next"); d; d = await h.transport.get("queue_next")) {
    links.push(decodeTaskMessage(d.body, d.props));
  }
  assert.deepEqual(links.map((l) => [l.task, l.args]), [["task_link", ["ok", 1]], ["task_fixed", [
    9,
  ]]]);
  await h.results();

  const failed = await sendWithEmbed(h, {
    errbacks: [sig("task_on_error", { queue: "queue_next" })],
    chain: [sig("task_after", { queue: "queue_next", task_id: "never-runs", reply_to: REPLY })],
  }, ["fail"]);
  await settle(async () => (await h.depth("queue_next")) === 1 && (await h.depth(REPLY)) === 2);
  const errback = await h.transport.get("queue_next");
  assert.ok(errback);
  assert.deepEqual(decodeTaskMessage(errback.body, errback.props).args, [failed.id]);
  const results = await h.results();
  assert.deepEqual(results.map((r) => [r.taskId, r.status]), [[failed.id, "FAILURE"], [
    "never-runs",
    "FAILURE",
  ]]);
});

Deno.test("Worker: a chord, or a chain going on after a group, is refused before it runs, with the reason", async () => {
  let ran = 0;
  await using h = await harness([task(() => ran++)]);
  await sendWithEmbed(h, { chord: sig("task_body") });
  const group = sig("celery.group", {}, {
    subtask_type: "group",
    kwargs: { tasks: [sig("task_x")] },
  });
  await sendWithEmbed(h, { chain: [sig("task_after"), group] });
  await sendWithEmbed(h, { callbacks: "not a list" as unknown });
  await settle(async () => (await h.depth(deadLetterQueueName(Q))) === 3);
  const reasons = (await h.dead()).map((d) => String(d.props.headers["x-dts-reason"]));
  assert.match(reasons[0], /chord needs a result backend/);
  assert.match(reasons[1], /chain that goes on after a group/);
  assert.match(reasons[2], /embed is malformed: embed.callbacks must be a list/);
  assert.equal(ran, 0);
});

Deno.test("Worker: a task waiting for its max_concurrency slot that is revoked meanwhile is refused and never runs", async () => {
  const started: string[] = [];
  const gate = Promise.withResolvers<void>();
  await using h = await harness([
    task(async (ctx) => {
      started.push(ctx.id);
      await gate.promise;
      return "done";
    }, { maxConcurrency: 1 }),
  ], { concurrency: 2 });
  const first = await h.send();
  const second = await h.send();
  await settle(() => h.worker.limits().task_t?.waiting === 1);
  assert.deepEqual(started, [first]);
  assert.equal(h.worker.limits().task_t.slots_held, 1);
  const { revokeTasks } = await import("../client/revoke_tasks.ts");
  await revokeTasks(h.transport, [second]);
  await settle(async () => (await h.depth(REPLY)) === 1);
  const [revoked] = await h.results();
  assert.deepEqual([revoked.taskId, revoked.status], [second, "REVOKED"]);
  assert.equal(h.worker.limits().task_t.waiting, 0);
  gate.resolve();
  await settle(async () => (await h.depth(REPLY)) === 1);
  const [done] = await h.results();
  assert.deepEqual([done.taskId, done.status], [first, "SUCCESS"]);
  assert.deepEqual(started, [first], "the revoked one never ran");
});

Deno.test("Worker: a worker stopping puts back a task still waiting for its slot, uncounted", async () => {
  const gate = Promise.withResolvers<void>();
  await using h = await harness([
    task(async () => {
      await gate.promise;
      return "done";
    }, { maxConcurrency: 1 }),
  ], { concurrency: 2 });
  await h.send();
  const waiting = await h.send();
  await settle(() => h.worker.limits().task_t?.waiting === 1);
  const stopping = h.worker.stop({ drainTimeoutMs: 60_000 });
  // The waiting one is back in the queue at once; the running one drains.
  await settle(async () => (await h.depth()) === 1);
  const back = await h.transport.get(Q);
  assert.ok(back);
  assert.equal(back.props.headers.id, waiting);
  assert.equal(back.redelivered, false);
  assert.equal(back.props.headers["x-dts-redeliveries"], undefined);
  await back.requeue();
  gate.resolve();
  await stopping;
  const results = await h.results();
  assert.deepEqual(results.map((r) => r.status), ["SUCCESS"]);
});

Deno.test("Worker: tasks waiting for their fleet-wide limit leave the pool to the worker's other queues", async () => {
  const gate = Promise.withResolvers<void>();
  const ran: string[] = [];
  await using h = await harness([
    task(async () => {
      ran.push("limited");
      await gate.promise;
      return "limited";
    }, { maxConcurrency: 1 }),
    task(() => {
      ran.push("free");
      return "free";
    }, { name: "task_free", queue: "queue_free" }),
  ], { concurrency: 2 });
  await h.send();
  await h.send();
  await settle(() => h.worker.limits().task_t?.waiting === 1);
  // The pool has 2 slots: one runs the limited task, the other is free although one more waits.
  const message = createTaskMessage("task_free", { replyTo: REPLY });
  const { body, props } = encodeTaskMessage(message);
  await h.transport.publish("queue_free", body, props);
  await settle(async () => (await h.depth(REPLY)) === 1);
  assert.deepEqual(ran, ["limited", "free"]);
  gate.resolve();
  await settle(async () => (await h.depth(REPLY)) === 3);
});

Deno.test("Worker: a task that waited a minute for its slot goes back to the queue's tail, uncounted", async () => {
  const gate = Promise.withResolvers<void>();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    format: "json",
    level: "info",
    write: (l) => lines.push(JSON.parse(l)),
  });
  await using h = await harness([
    task(async () => {
      await gate.promise;
      return "done";
    }, { maxConcurrency: 1 }),
  ], { concurrency: 2, logger });
  await h.send();
  const second = await h.send();
  await settle(() => h.worker.limits().task_t?.waiting === 1);
  const putBack = () => lines.filter((l) => String(l.msg).startsWith("Putting back")).length;
  h.clock.tick(59_000);
  await settle();
  assert.equal(putBack(), 0, "still waiting before the minute");
  h.clock.tick(1_000);
  await settle(() => putBack() === 1);
  assert.match(
    String(lines.find((l) => String(l.msg).startsWith("Putting back"))?.why),
    /waited 60 s/,
  );
  // Back at the tail and taken again (the prefetch has room): it waits anew, then runs.
  await settle(() => h.worker.limits().task_t?.waiting === 1);
  gate.resolve();
  await settle(async () => (await h.depth(REPLY)) === 2);
  const results = await h.results();
  assert.deepEqual(results.map((r) => r.status), ["SUCCESS", "SUCCESS"]);
  assert.ok(results.some((r) => r.taskId === second));
});
