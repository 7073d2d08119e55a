/**
 * Fleet-wide limits on RabbitMQ with real `dts worker` processes: a rate
 * limit shared by 3 workers, max_concurrency across 3 workers with 8 slots
 * each, the rate-limit leader SIGKILLed mid-run, and a worker holding
 * concurrency slots SIGKILLed. Each task returns when it started and ended,
 * so rates and overlaps are measured from what really ran.
 */
import assert from "node:assert/strict";
import type { DispatchJob } from "../../src/dispatch/dispatcher.ts";
import { leaderQueueName, slotQueueName, tokenQueueName } from "../../src/limits/limit_queues.ts";
import type { FleetLimitStatus } from "../../src/client/fleet_limits_status.ts";
import { inspectWorkers } from "../../src/client/inspect_workers.ts";
import type { TaskLimitState } from "../../src/limits/task_limits.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runDispatch } from "../helpers/in_process.ts";
import { type CliProcess, type CliResult, runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig, waitUntil } from "../helpers/test_kit.ts";

const TASK = "task_timed";

interface Span {
  start: number;
  end: number;
  pid: number;
}

/** The limit queues of TASK, so every test starts from none. */
function limitQueues(): string[] {
  return [
    tokenQueueName(TASK),
    leaderQueueName(TASK),
    ...Array.from({ length: 4 }, (_, i) => slotQueueName(TASK, i)),
  ];
}

async function withFleet(
  limits: string,
  run: (fleet: {
    transport: Transport;
    queue: string;
    spawn(name: string, concurrency: number): Promise<CliProcess>;
    jobs(count: number, ms: number): DispatchJob[];
    cli(args: string[]): Promise<CliResult>;
  }) => Promise<void>,
): Promise<void> {
  await using broker = await testBroker();
  const queue = testNamespace().queue("limits");
  await deleteQueues(broker.url, limitQueues());
  await using config = await tempConfig(
    `tasks:\n  timed:\n    name: ${TASK}\n    queue: ${queue}\n${limits}`,
  );
  await using transport = await openTransport(broker.url);
  const workers: CliProcess[] = [];
  try {
    await run({
      transport,
      queue,
      spawn: async (name, concurrency) => {
        const worker = await spawnWorker([
          "--task",
          "timed",
          "--config",
          config.path,
          "--plugins",
          FIXTURE_PLUGINS.reliability,
          "--concurrency",
          String(concurrency),
          "--name",
          name,
        ], { brokerUrl: broker.url });
        workers.push(worker);
        return worker;
      },
      jobs: (count, ms) =>
        Array.from({ length: count }, () => ({ task: TASK, queue, args: [], kwargs: { ms } })),
      cli: (args) =>
        runCli([...args, "--config", config.path], { env: { DTS_BROKER_URL: broker.url } }),
    });
  } finally {
    for (const worker of workers) await worker[Symbol.asyncDispose]();
    await deleteQueues(broker.url, [queue, ...limitQueues()]);
  }
}

function spansOf(outcomes: { status: string; result: unknown }[]): Span[] {
  assert.deepEqual(
    outcomes.filter((o) => o.status !== "SUCCESS").map((o) => o.status),
    [],
    "every task succeeded",
  );
  return outcomes.map((o) => o.result as Span).sort((a, b) => a.start - b.start);
}

/** Starts per second between the first and the last start. */
function rateOf(spans: Span[]): number {
  return (spans.length - 1) / ((spans.at(-1)!.start - spans[0].start) / 1000);
}

/** The most spans running at one moment (an end at the same ms as a start counts as before it). */
function mostAtOnce(spans: Span[]): number {
  const edges = spans.flatMap((s) => [[s.start, 1], [s.end, -1]]).sort((a, b) =>
    a[0] - b[0] || a[1] - b[1]
  );
  let running = 0;
  let most = 0;
  for (const [, change] of edges) {
    running += change;
    most = Math.max(most, running);
  }
  return most;
}

Deno.test("rate_limit 20/s across 3 workers: 200 tasks start at 20/s fleet-wide, within 10%", async () => {
  await withFleet("    rate_limit: 20/s\n", async ({ transport, spawn, jobs }) => {
    const workers = [
      await spawn("rate-1@t", 8),
      await spawn("rate-2@t", 8),
      await spawn("rate-3@t", 8),
    ];
    const { outcomes } = await runDispatch(transport, jobs(200, 0), { timeoutMs: 60_000 });
    const spans = spansOf(outcomes);
    const rate = rateOf(spans);
    const byWorker = new Set(spans.map((s) => s.pid)).size;
    console.log(
      `fleet-wide rate: ${
        rate.toFixed(2)
      } tasks/s over ${spans.length} tasks, on ${byWorker} workers`,
    );
    assert.ok(rate >= 18 && rate <= 22, `rate ${rate.toFixed(2)}/s is not within 10% of 20/s`);
    assert.equal(byWorker, 3, "every worker ran some");
    const leaders = workers.filter((w) =>
      w.output.includes("Leading: refilling the fleet-wide rate limit")
    );
    assert.equal(leaders.length, 1, "exactly one worker refilled the tokens");
  });
});

Deno.test("rate_limit: SIGKILL of the leader mid-run; another takes over within seconds and the rate holds", async () => {
  await withFleet("    rate_limit: 20/s\n", async ({ transport, spawn, jobs }) => {
    const first = await spawn("lead-1@t", 8);
    await first.waitFor(/Leading: refilling the fleet-wide rate limit/, 10_000);
    const second = await spawn("lead-2@t", 8);
    let finished = 0;
    let killedAt = 0;
    const dispatching = runDispatch(transport, jobs(200, 0), {
      timeoutMs: 60_000,
      onEvent: (event) => {
        if (event.type !== "SUCCESS" || ++finished !== 60) return;
        killedAt = Date.now();
        first.kill("SIGKILL");
      },
    });
    await second.waitFor(/Leading: refilling the fleet-wide rate limit/, 15_000);
    const tookOverMs = Date.now() - killedAt;
    const { outcomes } = await dispatching;
    const spans = spansOf(outcomes);
    const after = spans.filter((s) => s.start > killedAt);
    const gapMs = (after[0]?.start ?? Infinity) - killedAt;
    const rate = rateOf(after);
    console.log(
      `leader killed after 60 tasks: the other led ${tookOverMs} ms later, the next task started ${gapMs} ms after the kill, ${after.length} tasks after it at ${
        rate.toFixed(2)
      }/s`,
    );
    assert.ok(tookOverMs < 5000, `took over after ${tookOverMs} ms`);
    assert.ok(rate >= 18 && rate <= 22, `rate after the kill ${rate.toFixed(2)}/s`);
    assert.ok(after.every((s) => s.pid === second.pid));
  });
});

Deno.test("max_concurrency 2 across 3 workers with 8 slots each: never more than 2 run at once", async () => {
  await withFleet("    max_concurrency: 2\n", async ({ transport, spawn, jobs }) => {
    for (const name of ["mc-1@t", "mc-2@t", "mc-3@t"]) await spawn(name, 8);
    const { outcomes } = await runDispatch(transport, jobs(30, 200), { timeoutMs: 60_000 });
    const spans = spansOf(outcomes);
    const most = mostAtOnce(spans);
    const seconds = (spans.at(-1)!.end - spans[0].start) / 1000;
    console.log(
      `max_concurrency 2: at most ${most} ran at once; 30 tasks of 200 ms took ${
        seconds.toFixed(2)
      } s on ${new Set(spans.map((s) => s.pid)).size} workers`,
    );
    assert.equal(most, 2);
    // Two at a time: 15 rounds of 200 ms, plus handing slots over.
    assert.ok(seconds >= 2.9 && seconds < 8, `took ${seconds} s`);
  });
});

Deno.test("max_concurrency: SIGKILL of a worker holding slots gives them back; every task still runs, 2 at most", async () => {
  await withFleet("    max_concurrency: 2\n", async ({ transport, spawn, jobs }) => {
    const victim = await spawn("mc-victim@t", 8);
    // The first two are long, so the victim still holds both slots once the rescuers stand in
    // line behind it: starting two workers can take seconds on a loaded machine.
    const dispatching = runDispatch(transport, [...jobs(2, 4000), ...jobs(10, 1000)], {
      timeoutMs: 60_000,
    });
    // The victim alone: it takes both slots.
    await victim.waitFor(/"Task started"[\s\S]*"Task started"/, 10_000);
    const rescuers = await Promise.all([spawn("mc-r1@t", 8), spawn("mc-r2@t", 8)]);
    victim.kill("SIGKILL");
    const killedAt = Date.now();
    const { outcomes } = await dispatching;
    const spans = spansOf(outcomes);
    const before = spans.filter((s) => s.end <= killedAt);
    const after = spans.filter((s) => s.start >= killedAt);
    const most = mostAtOnce(spans);
    const backMs = after.slice(0, 2).map((s) => s.start - killedAt);
    console.log(
      `slot holder killed: ${before.length} tasks done before, ${after.length} ran after it on the others; both slots back ${
        backMs.join(" and ")
      } ms after the kill; at most ${most} at once`,
    );
    assert.equal(outcomes.length, 12);
    assert.equal(before.length + after.length, 12, "every task ran whole once, before or after");
    assert.ok(backMs.length === 2 && backMs.every((ms) => ms < 3000), `slots back after ${backMs}`);
    assert.ok(most <= 2, `at most 2 at once, saw ${most}`);
    assert.ok(after.every((s) => rescuers.some((r) => r.pid === s.pid)));
  });
});

Deno.test("limits show in inspect stats and reserved, and in dts status: the leader, slots in use, tasks waiting", async () => {
  await withFleet(
    "    rate_limit: 2/s\n    max_concurrency: 1\n",
    async ({ transport, spawn, jobs, cli }) => {
      await spawn("vis-1@t", 4);
      const dispatching = runDispatch(transport, jobs(6, 300), { timeoutMs: 60_000 });
      let reserved: { name: string }[] = [];
      await waitUntil("tasks waiting for their limits", async () => {
        const replies = await inspectWorkers(transport, { method: "reserved", timeoutMs: 500 });
        reserved = (replies.get("vis-1@t") ?? []) as { name: string }[];
        return reserved.length >= 2;
      });
      assert.equal(reserved[0].name, TASK);
      const stats = await inspectWorkers(transport, { method: "stats", timeoutMs: 500 });
      const limits = (stats.get("vis-1@t") as { limits: Record<string, TaskLimitState> }).limits;
      assert.equal(limits[TASK].rate_limit, "2/s");
      assert.equal(limits[TASK].leader, true);
      assert.equal(limits[TASK].max_concurrency, 1);
      assert.ok(limits[TASK].waiting >= 1);

      const status = await cli(["status", "--json"]);
      assert.equal(status.code, 0, status.stderr);
      const shown = (JSON.parse(status.stdout).limits as FleetLimitStatus[]).find((l) =>
        l.task === TASK
      );
      assert.ok(shown, status.stdout);
      assert.equal(shown.leader, "vis-1@t");
      assert.equal(shown.rate_limit, "2/s");
      assert.equal(shown.max_concurrency, 1);
      assert.ok(shown.slots_in_use !== null && shown.slots_in_use <= 1);
      assert.equal(typeof shown.tokens_waiting, "number");
      const text = await cli(["status"]);
      assert.match(
        text.stdout,
        /Fleet-wide limits\n {2}task_timed +rate 2\/s \(leader vis-1@t, tokens waiting \d+\) {2}slots [01]\/1 in use {2}tasks waiting \d+/,
      );
      await dispatching;
    },
  );
});
