/**
 * `Worker` with `autoscale` on `memory://` with a manual clock: the pool
 * grows with a backlog, shrinks after the cool-down, and never cuts a
 * running attempt.
 */
import assert from "node:assert/strict";
import { inlineRunner } from "../attempt/inline_runner.ts";
import { inspectWorkers } from "../client/inspect_workers.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { createLogger, silentLogger } from "../log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { decodeResultMessage } from "../protocol/celery_result_message.ts";
import { createTaskMessage, encodeTaskMessage } from "../protocol/celery_task_message.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { type AutoscaleOptions, Worker } from "./worker.ts";

const Q = "queue_t";
const REPLY = "reply_t";

/** Attempts that run until the test lets them go, one by one or all at once. */
class Gate {
  readonly started: { id: string; signal: AbortSignal; finish(): void }[] = [];
  #finished = 0;

  get running(): number {
    return this.started.length - this.#finished;
  }

  readonly task: TaskDefinition = {
    name: "task_t",
    queue: Q,
    retry: { ...DEFAULT_RETRY_SETTINGS, jitter: false },
    timeoutMs: null,
    source: "test",
    run: (ctx) =>
      new Promise<string>((resolve) => {
        this.started.push({
          id: ctx.id,
          signal: ctx.signal,
          finish: () => {
            this.#finished++;
            resolve(`done ${ctx.id}`);
          },
        });
      }),
  };

  /** Let the oldest `n` running attempts finish. */
  finish(n = Infinity): void {
    const open = this.started.slice(this.#finished);
    for (const attempt of open.slice(0, n)) attempt.finish();
  }
}

interface Harness extends AsyncDisposable {
  clock: ManualClock;
  transport: MemoryTransport;
  worker: Worker;
  gate: Gate;
  logs: Record<string, unknown>[];
  send(count: number): Promise<void>;
  /** Move the clock one autoscaler tick (1 s) `times` times, letting the worker act after each. */
  tick(times?: number): Promise<void>;
  depth(queue?: string): Promise<number>;
}

async function harness(
  autoscale: AutoscaleOptions,
  options: { prefetch?: number } = {},
): Promise<Harness> {
  const clock = new ManualClock(Date.parse("2026-12-01T00:00:00Z"));
  const broker = new MemoryBroker({ clock });
  const transport = new MemoryTransport(broker, { clock });
  await transport.assertQueue(REPLY);
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    format: "json",
    level: "info",
    clock,
    write: (line) => logs.push(JSON.parse(line)),
  });
  const gate = new Gate();
  const worker = new Worker({
    transport,
    tasks: [gate.task],
    name: "w@test",
    autoscale: { intervalMs: 1000, ...autoscale },
    prefetch: options.prefetch,
    logger,
    clock,
    runner: inlineRunner({ clock }),
  });
  await worker.start();
  await settle();
  return {
    clock,
    transport,
    worker,
    gate,
    logs,
    async send(count) {
      for (let i = 0; i < count; i++) {
        const { body, props } = encodeTaskMessage(createTaskMessage("task_t", { replyTo: REPLY }));
        await transport.publish(Q, body, props);
      }
      await settle();
    },
    async tick(times = 1) {
      for (let i = 0; i < times; i++) {
        clock.tick(1000);
        await settle();
      }
    },
    async depth(queue = Q) {
      return (await transport.inspectQueue(queue))?.messages ?? -1;
    },
    async [Symbol.asyncDispose]() {
      gate.finish();
      await worker.stop({ drainTimeoutMs: 0 });
      await transport.close();
      broker.close();
    },
  };
}

/** Real turns of the event loop, so the worker does what is due; no time passes on the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** Poll with real turns until `check` holds (the clock stays). */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`the worker did not get there: ${what}`);
}

function resizes(logs: Record<string, unknown>[]): [unknown, unknown, unknown][] {
  return logs.filter((l) => l.msg === "Pool grew" || l.msg === "Pool shrank")
    .map((l) => [l.from, l.to, l.backlog]);
}

Deno.test("Worker with autoscale grows to max at the first tick after a backlog appears", async () => {
  await using h = await harness({ min: 1, max: 4 });
  assert.equal(h.worker.concurrency, 1);
  await h.send(6);
  assert.equal(h.gate.running, 1, "one slot: one attempt, the rest waits in the queue");
  assert.equal(await h.depth(), 5);
  await h.tick();
  await until("4 attempts run", () => h.gate.running === 4);
  assert.equal(h.worker.concurrency, 4);
  assert.equal(await h.depth(), 2, "prefetch followed the pool: 4 taken, 2 still queued");
  assert.deepEqual(resizes(h.logs), [[1, 4, 5]]);
  assert.match(h.worker.metrics.render(), /^dts_worker_concurrency 4$/m);
  const stats = await inspectWorkers(h.transport, { method: "stats", expected: 1, clock: h.clock });
  const mine = stats.get("w@test") as Record<string, Record<string, unknown>>;
  assert.equal(mine.pool["max-concurrency"], 4);
  assert.deepEqual(mine.autoscaler, { min: 1, max: 4, current: 4, qty: 4 });
  await h.tick(5);
  assert.equal(h.worker.concurrency, 4, "never past max");
  assert.equal(h.gate.running, 4);
});

Deno.test("Worker with autoscale shrinks an idle pool one slot per tick to min, only after the cool-down", async () => {
  await using h = await harness({ min: 1, max: 4, cooldownMs: 10_000 });
  await h.send(4);
  await h.tick();
  await until("4 attempts run", () => h.gate.running === 4);
  h.gate.finish();
  await until("all done", () => h.gate.running === 0 && h.worker.inFlight === 0);
  // The last sample that wanted 4 was the tick that grew the pool; 10 s after it the first step.
  await h.tick(9);
  assert.equal(h.worker.concurrency, 4, "idle, but not for a whole cool-down yet");
  await h.tick();
  assert.equal(h.worker.concurrency, 3);
  await h.tick();
  assert.equal(h.worker.concurrency, 2);
  await h.tick(3);
  assert.equal(h.worker.concurrency, 1, "down to min, and no further");
  assert.deepEqual(resizes(h.logs), [[1, 4, 3], [4, 3, 0], [3, 2, 0], [2, 1, 0]]);
  assert.match(h.worker.metrics.render(), /^dts_worker_concurrency 1$/m);
  // One slot again: one message at a time is taken.
  await h.send(2);
  assert.equal(h.gate.running, 1);
  assert.equal(await h.depth(), 1);
});

Deno.test("Worker with autoscale never cuts a running attempt when it shrinks: the limit holds new ones back", async () => {
  await using h = await harness({ min: 1, max: 4, cooldownMs: 5000 });
  await h.send(4);
  await h.tick();
  await until("4 attempts run", () => h.gate.running === 4);
  h.gate.finish(1);
  await until("3 run", () => h.gate.running === 3 && h.worker.inFlight === 3);
  await h.tick(5);
  assert.equal(h.worker.concurrency, 3, "shrunk to what runs");
  const running = h.gate.started.slice(1);
  assert.ok(running.every((attempt) => !attempt.signal.aborted), "no running attempt was stopped");
  // A new message waits in the queue: the pool is full and its prefetch came down with it.
  await h.send(1);
  assert.equal(h.gate.started.length, 4);
  assert.equal(await h.depth(), 1);
  h.gate.finish(1);
  await until("the waiting one runs in the freed slot", () => h.gate.started.length === 5);
  h.gate.finish();
  await until("all done", () => h.worker.inFlight === 0);
  await until("5 results", async () => (await h.depth(REPLY)) === 5);
  const results = [];
  for (let d = await h.transport.get(REPLY); d !== null; d = await h.transport.get(REPLY)) {
    results.push(decodeResultMessage(d.body, d.props).status);
    await d.ack();
  }
  assert.deepEqual(results, ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"]);
});

Deno.test("Worker with autoscale min 0 holds no slot while idle and grows to 1 at the tick after a message", async () => {
  await using h = await harness({ min: 0, max: 2, cooldownMs: 3000 });
  assert.equal(h.worker.concurrency, 0);
  assert.match(h.worker.metrics.render(), /^dts_worker_concurrency 0$/m);
  await h.send(1);
  assert.equal(h.gate.running, 0, "taken to be noticed, but no slot to run it in");
  assert.equal(await h.depth(), 0);
  await h.tick();
  await until("it runs", () => h.gate.running === 1);
  assert.equal(h.worker.concurrency, 1);
  h.gate.finish();
  await until("done", () => h.worker.inFlight === 0);
  await h.tick(4);
  assert.equal(h.worker.concurrency, 0);
});

Deno.test("Worker with autoscale stops at once with a message waiting for a slot it will never get", async () => {
  await using h = await harness({ min: 0, max: 2 });
  await h.send(1);
  assert.equal(h.gate.running, 0);
  await h.worker.stop({ drainTimeoutMs: 0 });
  assert.equal(await h.depth(), 1, "the waiting message went back");
});

Deno.test("Worker with autoscale keeps a fixed prefetch fixed, and warns when it is below max", async () => {
  await using h = await harness({ min: 1, max: 4 }, { prefetch: 2 });
  const warning = h.logs.find((l) => l.level === "warn");
  assert.equal(
    warning?.msg,
    "A fixed prefetch below the autoscale max keeps the pool from filling up",
  );
  await h.send(6);
  await h.tick();
  await until("two run", () => h.gate.running === 2);
  await h.tick(2);
  assert.equal(h.worker.concurrency, 4, "the pool grew");
  assert.equal(h.gate.running, 2, "but the queue hands out only 2 at once");
});

Deno.test("Worker refuses autoscale together with concurrency, and bounds that make no pool", () => {
  const base = {
    transport: {} as MemoryTransport,
    tasks: [],
    name: "w",
    logger: silentLogger,
  };
  assert.throws(
    () => new Worker({ ...base, concurrency: 2, autoscale: { min: 1, max: 2 } }),
    TypeError,
  );
  assert.throws(() => new Worker({ ...base, autoscale: { min: 3, max: 2 } }), RangeError);
  assert.throws(() => new Worker({ ...base, autoscale: { min: 0, max: 0 } }), RangeError);
  assert.throws(() => new Worker({ ...base, concurrency: 0 }), RangeError);
});
