import assert from "node:assert/strict";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { createLogger, type Logger } from "../log/logger.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type {
  ProcessExit,
  ProcessLauncher,
  WorkerProcess,
  WorkerSpec,
} from "./process_launcher.ts";
import { type ScaleChange, Scaler, type ScalerOptions } from "./scaler.ts";

/** A worker process that only exists in the test; `exit()` ends it. */
class FakeProcess implements WorkerProcess {
  readonly pid: number;
  readonly spec: WorkerSpec;
  readonly signals: string[] = [];
  readonly exited: Promise<ProcessExit>;
  alive = true;
  /** When false, SIGTERM is recorded but the process keeps running (a stuck drain). */
  exitOnTerm = true;
  #resolve: (exit: ProcessExit) => void = () => {};

  constructor(pid: number, spec: WorkerSpec) {
    this.pid = pid;
    this.spec = spec;
    this.exited = new Promise((resolve) => this.#resolve = resolve);
  }

  kill(signal: "SIGTERM" | "SIGKILL"): void {
    if (!this.alive) return;
    this.signals.push(signal);
    if (signal === "SIGKILL") this.exit(137, "SIGKILL");
    else if (this.exitOnTerm) this.exit(0);
  }

  exit(code: number, signal: string | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    this.#resolve({ code, signal });
  }
}

class FakeLauncher implements ProcessLauncher {
  readonly launched: FakeProcess[] = [];
  failNext = 0;
  #pid = 1000;

  launch(spec: WorkerSpec): WorkerProcess {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("spawn failed");
    }
    const process = new FakeProcess(++this.#pid, spec);
    this.launched.push(process);
    return process;
  }

  get alive(): FakeProcess[] {
    return this.launched.filter((p) => p.alive);
  }

  names(): string[] {
    return this.alive.map((p) => p.spec.name);
  }
}

/** Let promise callbacks (process exits, queue reads) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

async function setup(
  overrides: Partial<ScalerOptions> = {},
  task: Partial<ScalerOptions["tasks"][number]> = {},
) {
  const broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const queue = "queue_a";
  await transport.assertTaskQueue(queue);
  const clock = new ManualClock(1_000_000);
  const launcher = new FakeLauncher();
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = createLogger({
    format: "json",
    level: "debug",
    write: (line) => lines.push(JSON.parse(line)),
    clock,
  });
  const changes: ScaleChange[] = [];
  const scaler = new Scaler({
    tasks: [{ key: "a", name: "task_a", queue, min: 1, max: 4, backlogPerWorker: 10, ...task }],
    transport,
    launcher,
    logger,
    hostname: "host1",
    clock,
    intervalMs: 2_000,
    cooldownMs: 5_000,
    stopTimeoutMs: 10_000,
    onDecision: (change) => changes.push(change),
    ...overrides,
  });
  const fill = async (n: number) => {
    for (let i = 0; i < n; i++) await transport.publish(queue, new TextEncoder().encode(`m${i}`));
  };
  return {
    broker,
    transport,
    queue,
    clock,
    launcher,
    lines,
    changes,
    scaler,
    fill,
    async [Symbol.asyncDispose]() {
      await scaler.stop();
      await transport.close();
      broker.close();
    },
  };
}

Deno.test("Scaler.reconcile() starts min workers named worker-<key>-<n>@<hostname>", async () => {
  await using t = await setup({}, { min: 2 });
  await t.scaler.reconcile();
  assert.deepEqual(t.launcher.names(), ["worker-a-1@host1", "worker-a-2@host1"]);
  assert.deepEqual(t.launcher.alive.map((p) => p.spec.healthPort), [0, 0]);
  assert.deepEqual(t.changes, [
    { key: "a", task: "task_a", queue: "queue_a", from: 0, to: 2, backlog: 0 },
  ]);
  assert.ok(t.lines.some((l) => l.msg === "scaled task_a from 0 to 2 workers: backlog 0"));
  assert.deepEqual(t.scaler.snapshot(), [
    { key: "a", task: "task_a", desired: 2, running: 2, stopping: 0, pids: [1001, 1002] },
  ]);
});

Deno.test("Scaler.reconcile() scales up at once by backlog, capped at max, and logs the decision", async () => {
  await using t = await setup();
  await t.scaler.reconcile();
  assert.equal(t.launcher.alive.length, 1);
  await t.fill(25);
  await t.scaler.reconcile();
  assert.deepEqual(t.launcher.names(), [
    "worker-a-1@host1",
    "worker-a-2@host1",
    "worker-a-3@host1",
  ]);
  const line = t.lines.find((l) => l.msg === "scaled task_a from 1 to 3 workers: backlog 25");
  assert.ok(line, JSON.stringify(t.lines));
  assert.deepEqual([line.level, line.from, line.to, line.backlog, line.queue], [
    "info",
    1,
    3,
    25,
    "queue_a",
  ]);
  await t.fill(100);
  await t.scaler.reconcile();
  assert.equal(t.launcher.alive.length, 4, "max is 4");
  assert.equal((await t.transport.inspectQueue(t.queue))?.messages, 125, "nothing consumed");
});

Deno.test("Scaler.reconcile() scales down one worker per cool-down, newest first, with SIGTERM", async () => {
  await using t = await setup();
  await t.fill(40);
  await t.scaler.reconcile();
  assert.equal(t.launcher.alive.length, 4);
  await t.transport.purgeQueue(t.queue);

  await t.scaler.reconcile();
  t.clock.tick(4_999);
  await t.scaler.reconcile();
  assert.equal(t.launcher.alive.length, 4, "still within the cool-down");
  assert.ok(t.launcher.launched.every((p) => p.signals.length === 0));

  t.clock.tick(1);
  await t.scaler.reconcile();
  await settle();
  const [first, second, third, fourth] = t.launcher.launched;
  assert.deepEqual(fourth.signals, ["SIGTERM"], "the newest goes first");
  assert.equal(fourth.alive, false);
  assert.deepEqual(t.launcher.names(), [
    "worker-a-1@host1",
    "worker-a-2@host1",
    "worker-a-3@host1",
  ]);
  assert.ok(t.lines.some((l) => l.msg === "scaled task_a from 4 to 3 workers: backlog 0"));

  t.clock.tick(2_000);
  await t.scaler.reconcile();
  assert.deepEqual(third.signals, [], "the next step waits a whole cool-down");
  t.clock.tick(3_000);
  await t.scaler.reconcile();
  await settle();
  assert.deepEqual(third.signals, ["SIGTERM"]);
  for (let i = 0; i < 5; i++) {
    t.clock.tick(5_000);
    await t.scaler.reconcile();
  }
  await settle();
  assert.deepEqual(second.signals, ["SIGTERM"]);
  assert.deepEqual(first.signals, [], "min is 1");
  assert.deepEqual(t.launcher.names(), ["worker-a-1@host1"]);

  // The next scale-up reuses the freed numbers.
  await t.fill(15);
  await t.scaler.reconcile();
  assert.deepEqual(t.launcher.names(), ["worker-a-1@host1", "worker-a-2@host1"]);
});

Deno.test("Scaler SIGKILLs a stopping worker only once the stop timeout has passed", async () => {
  await using t = await setup({ cooldownMs: 0 });
  await t.fill(20);
  await t.scaler.reconcile();
  const stuck = t.launcher.launched[1];
  stuck.exitOnTerm = false;
  await t.transport.purgeQueue(t.queue);
  await t.scaler.reconcile();
  assert.deepEqual(stuck.signals, ["SIGTERM"]);
  assert.deepEqual(t.scaler.snapshot()[0].stopping, 1);
  t.clock.tick(9_999);
  await settle();
  assert.deepEqual(stuck.signals, ["SIGTERM"], "still draining");
  t.clock.tick(1);
  await settle();
  assert.deepEqual(stuck.signals, ["SIGTERM", "SIGKILL"]);
  assert.equal(stuck.alive, false);
  assert.ok(t.lines.some((l) => l.msg === "Worker process did not stop in time; killing it"));
  assert.equal(t.scaler.snapshot()[0].stopping, 0);
});

Deno.test("Scaler replaces a crashed worker after a backoff that doubles while it keeps crashing", async () => {
  await using t = await setup({ crashBackoff: { initialMs: 1_000, maxMs: 3_000 } });
  await t.scaler.reconcile();
  const crashAndRestartAfter = async (waitMs: number) => {
    t.launcher.alive[0].exit(1);
    await settle();
    await t.scaler.reconcile();
    assert.equal(t.launcher.alive.length, 0, "not before the backoff");
    t.clock.tick(waitMs - 1);
    await t.scaler.reconcile();
    assert.equal(t.launcher.alive.length, 0, `not before ${waitMs} ms`);
    t.clock.tick(1);
    await t.scaler.reconcile();
    assert.deepEqual(t.launcher.names(), ["worker-a-1@host1"], `restarted after ${waitMs} ms`);
  };
  await crashAndRestartAfter(1_000);
  await crashAndRestartAfter(2_000);
  await crashAndRestartAfter(3_000);
  await crashAndRestartAfter(3_000);
  const crash = t.lines.find((l) => l.msg === "Worker process exited unexpectedly; replacing it");
  assert.deepEqual(
    [crash?.level, crash?.worker, crash?.code, crash?.restart_in_ms],
    ["warn", "worker-a-1@host1", 1, 1_000],
  );
  // A worker that ran for a while and then crashed starts a new streak.
  t.clock.tick(10_000);
  await crashAndRestartAfter(1_000);
  assert.equal(t.changes.length, 1, "a crash is not a scaling decision");
});

Deno.test("Scaler treats a failed launch as a crash and retries after the backoff", async () => {
  await using t = await setup();
  t.launcher.failNext = 1;
  await t.scaler.reconcile();
  assert.equal(t.launcher.alive.length, 0);
  const error = t.lines.find((l) => l.level === "error");
  assert.equal(error?.msg, 'Cannot start worker process "worker-a-1@host1": spawn failed');
  t.clock.tick(1_000);
  await t.scaler.reconcile();
  assert.deepEqual(t.launcher.names(), ["worker-a-1@host1"]);
});

Deno.test("Scaler.stop() SIGTERMs every worker, waits for all, and starts none afterwards", async () => {
  const t = await setup();
  await t.fill(30);
  t.scaler.start();
  await settle();
  assert.equal(t.launcher.alive.length, 3);
  const slow = t.launcher.launched[0];
  slow.exitOnTerm = false;
  let stopped = false;
  const stopping = t.scaler.stop().then(() => stopped = true);
  await settle();
  assert.ok(t.launcher.launched.every((p) => p.signals.join() === "SIGTERM"));
  assert.equal(stopped, false, "waits for the draining worker");
  slow.exit(0);
  await stopping;
  assert.equal(t.launcher.alive.length, 0);
  assert.equal(t.launcher.launched.length, 3, "nothing replaced the stopped workers");
  await t.scaler.reconcile();
  assert.equal(t.launcher.launched.length, 3, "a stopped scaler starts nothing");
  await t[Symbol.asyncDispose]();
});

Deno.test("Scaler.start() looks at the queue every interval and wakes early to replace a crash", async () => {
  await using t = await setup({ crashBackoff: { initialMs: 500, maxMs: 500 } });
  t.scaler.start();
  await settle();
  assert.equal(t.launcher.alive.length, 1);
  await t.fill(35);
  await settle();
  assert.equal(t.launcher.alive.length, 1, "waits for the interval");
  t.clock.tick(2_000);
  await settle();
  assert.equal(t.launcher.alive.length, 4);

  t.launcher.alive[3].exit(3);
  await settle();
  assert.equal(t.launcher.alive.length, 3);
  t.clock.tick(500);
  await settle();
  assert.equal(t.launcher.alive.length, 4, "replaced after 500 ms, before the next interval");
  assert.equal(t.launcher.alive[3].spec.name, "worker-a-4@host1");
});

Deno.test("Scaler keeps the worker count while the queue cannot be read, and logs that once", async () => {
  const broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  let failing = false;
  const flaky = {
    inspectQueue: (queue: string) =>
      failing ? Promise.reject(new Error("connection lost")) : transport.inspectQueue(queue),
  };
  await transport.assertTaskQueue("queue_a");
  for (let i = 0; i < 30; i++) await transport.publish("queue_a", new Uint8Array([1]));
  const launcher = new FakeLauncher();
  const lines: string[] = [];
  const clock = new ManualClock();
  const scaler = new Scaler({
    tasks: [{ key: "a", name: "task_a", queue: "queue_a", min: 1, max: 5, backlogPerWorker: 10 }],
    transport: flaky,
    launcher,
    clock,
    cooldownMs: 0,
    hostname: "h",
    logger: createLogger({ format: "json", level: "info", write: (l) => lines.push(l) }),
  });
  try {
    await scaler.reconcile();
    assert.equal(launcher.alive.length, 3);
    failing = true;
    await scaler.reconcile();
    await scaler.reconcile();
    assert.equal(launcher.alive.length, 3);
    assert.equal(lines.filter((l) => l.includes("Cannot read queue depth")).length, 1);
    failing = false;
    await transport.purgeQueue("queue_a");
    await scaler.reconcile();
    assert.equal(launcher.alive.length, 2, "decides again once the depth can be read");
  } finally {
    await scaler.stop();
    await transport.close();
    broker.close();
  }
});

Deno.test("Scaler gives children the lowest free health port from the base, across tasks", async () => {
  const broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const launcher = new FakeLauncher();
  const clock = new ManualClock();
  const scaler = new Scaler({
    tasks: [
      { key: "a", name: "task_a", queue: "queue_a", min: 2, max: 2, backlogPerWorker: 1 },
      { key: "b", name: "task_b", queue: "queue_b", min: 1, max: 1, backlogPerWorker: 1 },
    ],
    transport,
    launcher,
    hostname: "h",
    clock,
    healthPortBase: 9100,
    logger: createLogger({ format: "json", level: "error", write: () => {} }),
  });
  try {
    await scaler.reconcile();
    const ports = launcher.alive.map((p) => p.spec.healthPort);
    assert.deepEqual([...ports].sort(), [9100, 9101, 9102]);
    // A replacement takes the port its predecessor freed.
    const crashed = launcher.alive[1];
    crashed.exit(1);
    await settle();
    clock.tick(1_000);
    await scaler.reconcile();
    const replacement = launcher.launched[3];
    assert.deepEqual(
      [replacement.spec.name, replacement.spec.healthPort],
      [crashed.spec.name, crashed.spec.healthPort],
    );
  } finally {
    await scaler.stop();
    await transport.close();
    broker.close();
  }
});
