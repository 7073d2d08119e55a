import assert from "node:assert/strict";
import { createLogger, silentLogger } from "../../log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../../plugin/task_plugin.ts";
import { type AttemptInput, TaskRevokedError } from "../attempt_runner.ts";
import { ManualClock } from "../../../tests/helpers/manual_clock.ts";
import { HostedRunner, type HostedRunnerOptions } from "./hosted_runner.ts";

const FIXTURES = new URL("../../../tests/fixtures/plugins/hostile/", import.meta.url);

function plugin(
  file: string,
  name: string,
  overrides: Partial<TaskDefinition> = {},
): TaskDefinition {
  return {
    name,
    queue: "q",
    retry: DEFAULT_RETRY_SETTINGS,
    timeoutMs: null,
    module: new URL(file, FIXTURES).href,
    source: `hostile/${file}`,
    ...overrides,
  };
}

const hostile = (overrides: Partial<TaskDefinition> = {}) =>
  plugin("hostile.ts", "task_hostile", overrides);

function input(args: unknown[], stopSignal = new AbortController().signal): AttemptInput {
  return {
    id: crypto.randomUUID(),
    name: "task_hostile",
    args,
    kwargs: {},
    retries: 0,
    log: silentLogger,
    stopSignal,
  };
}

async function withRunner(
  options: Partial<HostedRunnerOptions>,
  body: (runner: HostedRunner) => Promise<void>,
): Promise<void> {
  const runner = new HostedRunner({ logger: silentLogger, killGraceMs: 200, ...options });
  try {
    await body(runner);
  } finally {
    await runner.close();
  }
}

Deno.test("HostedRunner runs a plugin in a host and relays its log lines to the attempt's logger", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    format: "json",
    level: "debug",
    write: (l) => lines.push(JSON.parse(l)),
  });
  await withRunner({}, async (runner) => {
    const outcome = await runner.run(hostile(), { ...input(["echo", 7]), log });
    assert.deepEqual(outcome.ok && outcome.value, { echo: 7 });
    assert.equal(runner.hosts, 1);
  });
  assert.deepEqual(lines.map((l) => [l.msg, l.value]), [["echoing", 7]]);
});

Deno.test("HostedRunner: a busy loop blocks only its host; the time limit holds and the host is replaced", async () => {
  await withRunner({}, async (runner) => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const started = performance.now();
    const outcome = await runner.run(hostile({ timeoutMs: 300 }), input(["busy", 5000]));
    const tookMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the kill grace
    clearInterval(timer);
    assert.ok(!outcome.ok && outcome.timedOut, JSON.stringify(outcome));
    assert.ok(tookMs < 1500, `the deadline held: ${tookMs.toFixed(0)} ms`);
    assert.ok(ticks >= 15, `the worker's own timers kept running (${ticks} ticks)`);
    assert.equal(runner.hosts, 0, "the spinning host was terminated");
    const next = await runner.run(hostile(), input(["echo", 1]));
    assert.deepEqual(next.ok && next.value, { echo: 1 }, "a new host serves the next attempt");
  });
});

Deno.test("HostedRunner: Deno.exit() in a plugin fails its attempt and leaves the host serving", async () => {
  await withRunner({}, async (runner) => {
    const outcome = await runner.run(hostile(), input(["exit"]));
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.type, "PluginExitError");
    assert.match(outcome.error.message, /called Deno\.exit\(\)/);
    const next = await runner.run(hostile(), input(["echo", 2]));
    assert.ok(next.ok);
    assert.equal(runner.hosts, 1, "the same host");
  });
});

Deno.test("HostedRunner: an unhandled rejection fails only the attempt that caused it", async () => {
  await withRunner({ hostsPerPlugin: 1 }, async (runner) => {
    const [stray, neighbour] = await Promise.all([
      runner.run(hostile(), input(["stray", 200])),
      runner.run(hostile(), input(["busy", 50])),
    ]);
    assert.ok(!stray.ok);
    assert.match(stray.error.message, /^Unhandled in the task: nobody handles me/);
    assert.deepEqual(neighbour.ok && neighbour.value, "done spinning");
  });
});

Deno.test("HostedRunner: hostile throws and non-JSON results are failures with reasons", async () => {
  await withRunner({}, async (runner) => {
    const proxy = await runner.run(hostile(), input(["proxy"]));
    assert.ok(!proxy.ok && proxy.error.type === "Error");
    const map = await runner.run(hostile(), input(["map"]));
    assert.ok(!map.ok && map.error.type === "ResultNotJsonError" && !map.retryable);
    assert.match(!map.ok ? map.error.message : "", /result is a Map/);
  });
});

Deno.test("HostedRunner: a plugin may do only what it declares", async () => {
  await withRunner({}, async (runner) => {
    const read = await runner.run(hostile(), input(["read"]));
    assert.ok(!read.ok);
    assert.match(read.error.message, /Requires read access to "\/etc\/hostname"/);
    const env = await runner.run(hostile(), input(["env"]));
    assert.ok(!env.ok && /Requires env access/.test(env.error.message));
    const reader = plugin("reader.ts", "task_reader");
    const allowed = await runner.run(
      { ...reader, permissions: { read: ["/etc/hostname"] } },
      input(["/etc/hostname"]),
    );
    assert.equal(allowed.ok && allowed.value, await Deno.readTextFile("/etc/hostname"));
    const other = await runner.run(
      { ...reader, permissions: { read: ["/etc/hostname"] } },
      input(["/etc/passwd"]),
    );
    assert.ok(!other.ok && /Requires read access to "\/etc\/passwd"/.test(other.error.message));
  });
});

Deno.test("HostedRunner: the worker's stop ends attempts as stopped; one that ignores it is terminated", async () => {
  await withRunner({}, async (runner) => {
    const stop = new AbortController();
    const honour = runner.run(hostile(), input(["honour"], stop.signal));
    const ignore = runner.run(hostile(), input(["never"], stop.signal));
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop.abort();
    const [a, b] = await Promise.all([honour, ignore]);
    assert.ok(!a.ok && a.stopped && !a.timedOut);
    assert.ok(!b.ok && b.stopped);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(runner.hosts, 0, "the host of the attempt that ignored its signal is gone");
  });
});

Deno.test("HostedRunner: a revoke with terminate ends the attempt REVOKED at once; a plugin that ignores its signal loses its host", async () => {
  await withRunner({}, async (runner) => {
    const revokeHonour = new AbortController();
    const revokeIgnore = new AbortController();
    const honour = runner.run(hostile(), {
      ...input(["honour"]),
      revokeSignal: revokeHonour.signal,
    });
    const ignore = runner.run(hostile(), {
      ...input(["never"]),
      revokeSignal: revokeIgnore.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    revokeHonour.abort(new TaskRevokedError("wrong build"));
    revokeIgnore.abort(new TaskRevokedError("stop it"));
    const [a, b] = await Promise.all([honour, ignore]);
    assert.ok(!a.ok && a.revoked && !a.stopped && !a.timedOut, JSON.stringify(a));
    assert.equal(!a.ok && a.error.type, "TaskRevokedError");
    assert.match(!a.ok ? a.error.message : "", /wrong build/);
    assert.ok(!b.ok && b.revoked, JSON.stringify(b));
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(runner.hosts, 0, "the host of the attempt that ignored its signal is gone");
  });
});

Deno.test("HostedRunner: attempts sharing a host that had to be terminated are cut short, not failed", async () => {
  await withRunner({}, async (runner) => {
    const spinner = runner.run(hostile({ timeoutMs: 100 }), input(["busy", 3000]));
    const neighbour = runner.run(hostile(), input(["stray", 2000]));
    const [s, n] = await Promise.all([spinner, neighbour]);
    assert.ok(!s.ok && s.timedOut);
    assert.ok(!n.ok && n.stopped, JSON.stringify(n));
    assert.match(!n.ok ? n.error.message : "", /its plugin host was stopped/);
  });
});

Deno.test("HostedRunner: a module that cannot be imported fails the attempt with the plugin's name", async () => {
  await withRunner({}, async (runner) => {
    const outcome = await runner.run(plugin("missing.ts", "task_missing"), input([]));
    assert.ok(!outcome.ok);
    assert.match(outcome.error.message, /Cannot load plugin "hostile\/missing.ts"/);
  });
});

Deno.test("HostedRunner: a host is retired after idleMs without work, counted from its last attempt", async () => {
  const clock = new ManualClock(0);
  await withRunner({ clock, idleMs: 60_000 }, async (runner) => {
    await runner.run(hostile(), input(["echo", 1]));
    clock.tick(50_000);
    await runner.run(hostile(), input(["echo", 2]));
    assert.equal(runner.hosts, 1);
    // 60 s after the first attempt, but only 10 s after the second: kept.
    clock.tick(10_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(runner.hosts, 1, "retired while it had just worked");
    clock.tick(50_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(runner.hosts, 0, "not retired after 60 s idle");
  });
});

Deno.test("HostedRunner spreads attempts over hostsPerPlugin hosts before two share one", async () => {
  await withRunner({ hostsPerPlugin: 2 }, async (runner) => {
    const stop = new AbortController();
    const first = runner.run(hostile(), input(["honour"], stop.signal));
    assert.equal(runner.hosts, 1);
    const second = runner.run(hostile(), input(["honour"], stop.signal));
    assert.equal(runner.hosts, 2, "the second attempt waited behind the first's host");
    const third = runner.run(hostile(), input(["honour"], stop.signal));
    assert.equal(runner.hosts, 2, "more hosts than hostsPerPlugin");
    stop.abort();
    const outcomes = await Promise.all([first, second, third]);
    assert.ok(outcomes.every((o) => !o.ok && o.stopped));
    // Idle again: the next attempt goes to an existing host, not a new one.
    assert.equal((await runner.run(hostile(), input(["echo", 1]))).ok, true);
    assert.equal(runner.hosts, 2);
  });
});
