import assert from "node:assert/strict";
import { PrettyReporter } from "./pretty_reporter.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import type { DispatchPlan, DispatchRun, TaskEvent, TaskOutcome } from "./task_event.ts";

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0, 0);
const ID_A = "4f09a2b1-1111-4000-8000-000000000001";
const ID_B = "9c3e77d0-2222-4000-8000-000000000002";
const ESC = "\x1b[";

function collector(): { write: (text: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { write: (text) => void chunks.push(text), text: () => chunks.join("") };
}

function plan(overrides: Partial<DispatchPlan> = {}): DispatchPlan {
  return {
    name: "Basic two-task execution test",
    runId: "20261128_100000-a1b2c3",
    journal: "results/dispatch_20261128_100000-a1b2c3.jsonl",
    broker: "amqp://guest:***@localhost:5672/",
    expectedWorkers: 2,
    workers: ["worker-a@host", "worker-b@host"],
    taskCount: 2,
    startedAt: T0,
    ...overrides,
  };
}

function events(): TaskEvent[] {
  const a = { id: ID_A, task: "task_a", queue: "queue_a" };
  const b = { id: ID_B, task: "task_b", queue: "queue_b" };
  return [
    { ...a, type: "SENT", at: T0 + 1 },
    { ...b, type: "SENT", at: T0 + 2 },
    { ...a, type: "RECEIVED", worker: "worker-a@host", at: T0 + 3 },
    { ...a, type: "STARTED", worker: "worker-a@host", at: T0 + 4 },
    { ...b, type: "STARTED", worker: "worker-b@host", at: T0 + 5 },
    {
      ...b,
      type: "RETRY",
      retries: 1,
      delayMs: 500,
      error: { type: "Error", message: "flaky" },
      at: T0 + 6,
    },
    {
      ...a,
      type: "SUCCESS",
      result: "Hello from Task A",
      runtimeMs: 106,
      worker: "worker-a@host",
      retries: 0,
      at: T0 + 110,
    },
    {
      ...b,
      type: "FAILURE",
      error: { type: "ValueError", message: "bad input" },
      runtimeMs: 12.34,
      worker: "worker-b@host",
      retries: 1,
      at: T0 + 600,
    },
  ];
}

function outcome(overrides: Partial<TaskOutcome> = {}): TaskOutcome {
  return {
    task: "task_a",
    id: ID_A,
    queue: "queue_a",
    status: "SUCCESS",
    result: "Hello from Task A",
    error: null,
    retries: 0,
    runtimeMs: 106,
    worker: "worker-a@host",
    sentAt: T0 + 1,
    doneAt: T0 + 110,
    job: null,
    after: [],
    ...overrides,
  };
}

function run(tasks: TaskOutcome[], overrides: Partial<DispatchRun> = {}): DispatchRun {
  return {
    name: "Basic two-task execution test",
    runId: "20261128_100000-a1b2c3",
    broker: "amqp://guest:***@localhost:5672/",
    startedAt: T0,
    finishedAt: T0 + 610,
    expectedWorkers: 2,
    workers: ["worker-a@host", "worker-b@host"],
    tasks,
    interrupted: false,
    ...overrides,
  };
}

const RUN = run([
  outcome(),
  outcome({
    task: "task_b",
    id: ID_B,
    queue: "queue_b",
    status: "FAILURE",
    result: null,
    error: { type: "ValueError", message: "bad input" },
    retries: 1,
    runtimeMs: 12.34,
    worker: "worker-b@host",
  }),
]);

function timeOfDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}

async function render(color: boolean): Promise<string> {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color, clock: new ManualClock(T0) });
  reporter.begin(plan());
  for (const event of events()) reporter.report(event);
  await reporter.finish(RUN);
  return out.text();
}

Deno.test("PrettyReporter.begin() prints name, broker, workers and task count", () => {
  const out = collector();
  new PrettyReporter({ write: out.write, color: false }).begin(plan());
  const text = out.text();
  assert.match(text, /Basic two-task execution test/);
  assert.match(text, /amqp:\/\/guest:\*\*\*@localhost:5672\//);
  assert.match(
    text,
    /workers {2}2 of 2 expected serve these queues: worker-a@host, worker-b@host$/m,
  );
  assert.match(text, /tasks\s+2/);
  assert.doesNotMatch(text, /missing/);
});

Deno.test("PrettyReporter.begin() shows the run id and its journal, and a resume's missing tasks", () => {
  const out = collector();
  new PrettyReporter({ write: out.write, color: false }).begin(plan());
  assert.match(
    out.text(),
    /\n {2}run {6}20261128_100000-a1b2c3\n {2}journal {2}results\/dispatch_20261128_100000-a1b2c3\.jsonl\n/,
  );
  const resumed = collector();
  new PrettyReporter({ write: resumed.write, color: false }).begin(
    plan({ journal: null, missing: 1 }),
  );
  assert.match(resumed.text(), /^Dispatch: Basic two-task execution test \(resumed\)\n/);
  assert.match(resumed.text(), /\n {2}run {6}20261128_100000-a1b2c3\n/);
  assert.match(resumed.text(), /tasks {4}2, 1 without a result yet/);
});

Deno.test("PrettyReporter.begin() warns when fewer workers answer than expected", () => {
  const out = collector();
  new PrettyReporter({ write: out.write, color: false }).begin(
    plan({ expectedWorkers: 3, workers: ["worker-a@host"] }),
  );
  assert.match(out.text(), /WARN: 2 of 3 expected workers missing/);
  const none = collector();
  new PrettyReporter({ write: none.write, color: false }).begin(
    plan({ expectedWorkers: null, workers: [] }),
  );
  assert.match(none.text(), /0 serve these queues: none/);
  assert.doesNotMatch(none.text(), /WARN/);
});

Deno.test("PrettyReporter.begin() counts only serving workers and says how many serve other queues", () => {
  const out = collector();
  new PrettyReporter({ write: out.write, color: false }).begin(
    plan({ expectedWorkers: 2, workers: ["worker-a@host"], answered: 3 }),
  );
  assert.match(
    out.text(),
    /workers {2}1 of 2 expected serve these queues: worker-a@host \(and 2 serving other queues\)$/m,
  );
  assert.match(out.text(), /WARN: 1 of 2 expected workers missing/);
});

Deno.test("PrettyReporter.report() prints one line per event with time, state, task and short id", async () => {
  const text = await render(false);
  const lines = text.split("\n");
  const line = (state: string, task: string) =>
    lines.find((l) => l.includes(` ${state} `) && l.includes(task)) ?? "";
  assert.equal(
    line("SENT", "task_a"),
    `${timeOfDay(T0 + 1)}  SENT      task_a  4f09a2b1…  queue_a`,
  );
  assert.match(line("RECEIVED", "task_a"), /RECEIVED {2}task_a {2}4f09a2b1… {2}worker-a@host$/);
  assert.match(line("STARTED", "task_b"), /STARTED {3}task_b {2}9c3e77d0… {2}worker-b@host$/);
  assert.match(line("RETRY", "task_b"), /retries 1, retry in 500\.0 ms: Error: flaky/);
  assert.match(line("SUCCESS", "task_a"), /106\.0 ms\s+worker-a@host\s+"Hello from Task A"/);
  assert.match(line("FAILURE", "task_b"), /12\.3 ms\s+worker-b@host\s+ValueError: bad input/);
  assert.equal(lines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} {2}/.test(l)).length, 8);
});

Deno.test("PrettyReporter.finish() prints the results table and the timing summary", async () => {
  const text = await render(false);
  const lines = text.split("\n");
  const header = lines.find((l) => l.startsWith("TASK")) ?? "";
  assert.match(header, /^TASK\s+ID\s+QUEUE\s+STATUS\s+RESULT\s+WORKER\s+TIME ms\s+RETRIES$/);
  const rowA = lines.find((l) => l.startsWith("task_a ")) ?? "";
  assert.match(
    rowA,
    /task_a\s+4f09a2b1-1111-4000-8000-000000000001\s+queue_a\s+SUCCESS\s+"Hello from Task A"\s+worker-a@host\s+106\.0\s+0$/,
  );
  const rowB = lines.find((l) => l.startsWith("task_b ")) ?? "";
  assert.match(rowB, /FAILURE\s+ValueError: bad input\s+worker-b@host\s+12\.3\s+1$/);
  assert.match(
    text,
    /total\s+610\.0 ms \(dispatch\)\s+sequential 118\.3 ms \(sum of runtimes\)\n\s+speed-up\s+0\.19x/,
  );
  assert.match(text, /average\s+59\.2 ms\s+fastest 12\.3 ms\s+slowest 106\.0 ms/);
  assert.match(text, /retries\s+1/);
  assert.match(text, /succeeded 1\s+failed 1\s+of 2/);
});

Deno.test("PrettyReporter writes no ANSI escapes when color is false", async () => {
  const text = await render(false);
  assert.ok(!text.includes(ESC));
});

Deno.test("PrettyReporter colours states when color is true", async () => {
  const text = await render(true);
  assert.ok(text.includes(ESC));
  assert.ok(text.includes("\x1b[32mSUCCESS "), "green success");
  assert.ok(text.includes("\x1b[31mFAILURE "), "red failure");
  assert.ok(text.includes("\x1b[33mRETRY "), "yellow retry");
  assert.ok(text.includes("\x1b[36mSTARTED "), "cyan started");
});

Deno.test("PrettyReporter truncates long results and survives odd ones", async () => {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color: false });
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  const base = { task: "task_a", queue: "queue_a", runtimeMs: 1, worker: "w", retries: 0 };
  reporter.begin(plan({ taskCount: 3 }));
  reporter.report({ ...base, id: "1", type: "SUCCESS", result: "x".repeat(200), at: T0 });
  reporter.report({ ...base, id: "2", type: "SUCCESS", result: loop, at: T0 });
  reporter.report({ ...base, id: "3", type: "SUCCESS", result: undefined, at: T0 });
  reporter.report({ ...base, id: "4", type: "SUCCESS", result: 5n, at: T0 });
  await reporter.finish(run([
    outcome({ id: "1", result: "x".repeat(200) }),
    outcome({ id: "2", result: loop }),
    outcome({ id: "3", result: undefined }),
  ]));
  const text = out.text();
  assert.ok(text.includes(`"${"x".repeat(38)}…`));
  assert.ok(!text.includes("x".repeat(41)));
  assert.ok(text.includes("[object Object]"));
  assert.ok(text.includes("5"));
});

function bigRun(
  total: number,
  failures: Set<number>,
): { events: TaskEvent[]; tasks: TaskOutcome[] } {
  const events: TaskEvent[] = [];
  const tasks: TaskOutcome[] = [];
  for (let i = 0; i < total; i++) {
    const id = `id-${String(i).padStart(4, "0")}-xxxx`;
    const base = { id, task: "task_a", queue: "queue_a" };
    events.push({ ...base, type: "SENT", at: T0 + i });
    if (i === 3) {
      events.push({ ...base, type: "RETRY", retries: 1, delayMs: 10, error: null, at: T0 + i });
    }
    if (failures.has(i)) {
      events.push({
        ...base,
        type: "TIMEOUT",
        error: { type: "TimeoutError", message: "no result within 60 s" },
        retries: 0,
        at: T0 + i,
      });
      tasks.push(outcome({ id, status: "TIMEOUT", result: null, runtimeMs: null, doneAt: null }));
    } else {
      events.push({
        ...base,
        type: "SUCCESS",
        result: i,
        runtimeMs: 5,
        worker: "w",
        retries: 0,
        at: T0 + i,
      });
      tasks.push(outcome({ id, result: i, runtimeMs: 5 }));
    }
  }
  // Task 3 retries and finishes last, so it counts as retrying until the end.
  const late = events.findIndex((e) => e.id.startsWith("id-0003") && e.type === "SUCCESS");
  events.push(...events.splice(late, 1));
  return { events, tasks };
}

Deno.test("PrettyReporter shows a progress bar every 10% when not a terminal", async () => {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color: false, progressAbove: 50 });
  const { events, tasks } = bigRun(100, new Set([42]));
  reporter.begin(plan({ taskCount: 100 }));
  for (const event of events) reporter.report(event);
  await reporter.finish(run(tasks));
  const text = out.text();
  assert.ok(!text.includes(ESC));
  assert.ok(!text.includes("\r"));
  assert.ok(!/ SENT /.test(text), "no line per event");
  const bars = text.split("\n").filter((l) => l.startsWith("["));
  assert.equal(bars.length, 10);
  assert.match(bars[0], /^\[###-+\] 10\/100 done · 0 failed · 1 retrying$/);
  assert.match(bars[8], /^\[#{27}-{3}\] 90\/100 done · 1 failed · 1 retrying$/);
  assert.match(bars[9], /^\[#{30}\] 100\/100 done · 1 failed · 0 retrying$/);
  assert.match(text, /TIMEOUT\s+task_a\s+id-0042-…\s+TimeoutError: no result within 60 s/);
  assert.match(text, /\(99 succeeded tasks not listed\)/);
  assert.match(text, /succeeded 99\s+failed 1\s+of 100/);
});

Deno.test("PrettyReporter redraws the progress bar in place on a terminal", async () => {
  const out = collector();
  const clock = new ManualClock(T0);
  const reporter = new PrettyReporter({ write: out.write, color: true, clock, progressAbove: 5 });
  const { events, tasks } = bigRun(10, new Set([7]));
  reporter.begin(plan({ taskCount: 10 }));
  for (const event of events) {
    clock.tick(200);
    reporter.report(event);
  }
  await reporter.finish(run(tasks));
  const text = out.text();
  assert.ok(text.includes("\r[###---------------------------] 1/10 done · 0 failed · 0 retrying"));
  assert.ok(text.includes("\r\x1b[K"), "failure line clears the bar first");
  assert.ok(text.includes("\x1b[31mTIMEOUT "));
  assert.ok(text.includes("10/10 done · 1 failed · 0 retrying\x1b[K\n"));
});

Deno.test("PrettyReporter limits progress redraws on a terminal by the clock", () => {
  const out = collector();
  const clock = new ManualClock(T0);
  const reporter = new PrettyReporter({ write: out.write, color: true, clock, progressAbove: 5 });
  const { events } = bigRun(10, new Set());
  reporter.begin(plan({ taskCount: 10 }));
  for (const event of events.slice(0, 10)) reporter.report(event);
  const redraws = out.text().split("\r").length - 1;
  assert.equal(redraws, 1);
});

Deno.test("PrettyReporter lines up the timeline's columns to the longest task name", () => {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color: false });
  reporter.begin(plan({ taskNames: ["a", "task_with_a_long_name"] }));
  reporter.report({ id: ID_A, task: "a", queue: "queue_a", type: "SENT", at: T0 });
  reporter.report({
    id: ID_B,
    task: "task_with_a_long_name",
    queue: "queue_long",
    type: "SENT",
    at: T0,
  });
  const lines = out.text().split("\n").filter((l) => / SENT /.test(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].indexOf("4f09a2b1…"), lines[1].indexOf("9c3e77d0…"));
  assert.equal(lines[0].indexOf("queue_a"), lines[1].indexOf("queue_long"));
});

Deno.test("PrettyReporter fits the results table to the terminal width; ids are cut, not wrapped", async () => {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color: true, width: 80 });
  reporter.begin(plan());
  for (const event of events()) reporter.report(event);
  await reporter.finish(RUN);
  // deno-lint-ignore no-control-regex
  const visible = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, "");
  const lines = out.text().split("\n").map(visible);
  for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
  const header = lines.find((l) => l.startsWith("TASK")) ?? "";
  assert.match(header, /^TASK\s+ID\s+QUEUE\s+STATUS\s+RESULT\s+WORKER\s+TIME ms\s+RETRIES$/);
  const rowA = lines.find((l) => l.startsWith("task_a ")) ?? "";
  assert.match(rowA, /^task_a\s+4f09a2b1-\S*…\s+queue_a\s+SUCCESS\s/);
  assert.match(rowA, /\s106\.0\s+0$/);
});

Deno.test("PrettyReporter shows INTERRUPTED tasks live, in the table and in the summary", async () => {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color: false });
  reporter.begin(plan());
  const [sentA, sentB] = events();
  const success = events().find((e) => e.type === "SUCCESS")!;
  for (const event of [sentA, sentB, success]) reporter.report(event);
  const error = {
    type: "InterruptedError",
    message: "dispatch interrupted by SIGINT before a result arrived",
  };
  const b = { id: ID_B, task: "task_b", queue: "queue_b" };
  reporter.report({ ...b, type: "INTERRUPTED", error, retries: 0, at: T0 + 200 });
  await reporter.finish(run([
    outcome(),
    outcome({
      ...b,
      status: "INTERRUPTED",
      result: null,
      error,
      runtimeMs: null,
      worker: null,
      doneAt: null,
    }),
  ], { interrupted: true }));
  const text = out.text();
  assert.match(
    text,
    /INTERRUPTED {2}task_b {2}9c3e77d0… {2}InterruptedError: dispatch interrupted by SIGINT before a result arrived\n/,
  );
  assert.match(text, /task_b\s+\S+\s+queue_b\s+INTERRUPTED\s+InterruptedError: dispatch interr/);
  assert.match(text, /succeeded 1\s+failed 0\s+interrupted 1\s+of 2/);
  assert.match(text, /Interrupted: 1 of 2 tasks had no result yet/);

  const colored = collector();
  const painted = new PrettyReporter({ write: colored.write, color: true });
  painted.begin(plan());
  painted.report({ ...b, type: "INTERRUPTED", error, retries: 0, at: T0 + 200 });
  assert.ok(colored.text().includes("\x1b[33mINTERRUPTED"), "yellow interrupted");
});

Deno.test("PrettyReporter shows the job graph: the header, each job's moves, SKIPPED, and a summary", async () => {
  const out = collector();
  const reporter = new PrettyReporter({ write: out.write, color: false });
  reporter.begin(plan({
    taskCount: 3,
    jobs: [
      { id: "build", task: "task_a", count: 1, after: [] },
      { id: "test", task: "task_b", count: 2, after: ["build"] },
    ],
  }));
  const build = { id: ID_A, task: "task_a", queue: "queue_a" };
  const tests = ["t1", "t2"].map((id) => ({ id, task: "task_b", queue: "queue_b" }));
  reporter.report({ type: "SENT", ...build, job: "build", at: T0 });
  for (const t of tests) {
    reporter.report({ type: "WAITING", ...t, job: "test", after: ["build"], at: T0 });
  }
  reporter.report({
    type: "FAILURE",
    ...build,
    at: T0 + 5,
    error: { type: "ValueError", message: "broke" },
    runtimeMs: 4,
    worker: "w",
    retries: 0,
  });
  const why = { type: "DependencyError", message: 'the job it waits for "build" did not succeed' };
  for (const t of tests) {
    reporter.report({ type: "SKIPPED", ...t, at: T0 + 6, error: why, retries: 0 });
  }
  await reporter.finish(run([
    outcome({ status: "FAILURE", job: "build" }),
    ...tests.map((t) =>
      outcome({ ...t, status: "SKIPPED", sentAt: null, doneAt: null, job: "test", error: why })
    ),
  ]));
  const text = out.text();
  assert.match(text, / {2}jobs {5}build \(task_a\)\n {11}test \(task_b ×2\) after build\n/);
  assert.match(text, /WAITING +task_b +t1 +queue_b {2}after build/);
  assert.match(text, /JOB +build {2}failed: 0 of 1 succeeded, 1 FAILURE/);
  assert.match(text, /SKIPPED +task_b +t2 +the job it waits for "build" did not succeed/);
  assert.match(text, /JOB +test {2}skipped: 0 of 2 succeeded, 2 SKIPPED/);
  assert.match(text, /failed 1 {3}skipped 2 {3}of 3/);
  assert.match(text, / {2}jobs {7}build ✗ 0\/1 · test skipped/);
});
