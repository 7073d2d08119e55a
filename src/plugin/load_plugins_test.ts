import assert from "node:assert/strict";
import { PluginError, UsageError } from "../errors.ts";
import { loadPlugins } from "./load_plugins.ts";
import { knownTaskRefs, resolveRoute, resolveTask } from "./resolve_tasks.ts";
import { DEFAULT_RETRY_SETTINGS } from "./task_plugin.ts";

const fixtures = new URL("../../tests/fixtures/plugins/", import.meta.url).pathname;

Deno.test("loadPlugins() loads the built-in task_a and task_b", async () => {
  const plugins = await loadPlugins();
  assert.deepEqual(plugins.map((p) => p.plugin.name), ["task_a", "task_b"]);
  assert.deepEqual(plugins.map((p) => p.source), ["plugins/task_a.ts", "plugins/task_b.ts"]);
});

Deno.test("loadPlugins() adds every module of a --plugins folder", async () => {
  const plugins = await loadPlugins({ dirs: [`${fixtures}good`] });
  assert.deepEqual(
    plugins.map((p) => p.plugin.name).sort(),
    ["task_a", "task_b", "task_flaky", "task_non_retryable", "task_ok", "task_slow", "task_throws"],
  );
});

Deno.test("loadPlugins() names the file and says a plugin has no run function", async () => {
  await assert.rejects(
    loadPlugins({ dirs: [`${fixtures}broken_no_run`], builtinDir: null }),
    (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.match(error.message, /^Cannot load plugin ".*broken_no_run\/not_a_plugin\.ts": /);
      assert.match(error.message, /default export has no "run" function/);
      return true;
    },
  );
});

Deno.test("loadPlugins() names the file of a module that does not parse", async () => {
  await assert.rejects(
    loadPlugins({ dirs: [`${fixtures}broken_syntax`], builtinDir: null }),
    (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.match(
        error.message,
        /^Cannot load plugin ".*broken_syntax\/syntax_error\.ts": syntax error at .*broken_syntax\/syntax_error\.ts:2:\d+: /,
      );
      return true;
    },
  );
});

Deno.test("loadPlugins() refuses a task name defined twice and names both files", async () => {
  await assert.rejects(
    loadPlugins({ dirs: [`${fixtures}duplicate`] }),
    (error: unknown) => {
      assert.ok(error instanceof PluginError);
      assert.match(
        error.message,
        /duplicate_name\.ts": task "task_a" is already defined by "plugins\/task_a\.ts"/,
      );
      return true;
    },
  );
});

Deno.test("loadPlugins() rejects retry settings out of range", async () => {
  await assert.rejects(
    loadPlugins({ dirs: [`${fixtures}bad_retry`], builtinDir: null }),
    /bad_retry\.ts": default export "retry\.factor" /,
  );
});

Deno.test("loadPlugins() says which folder is missing", async () => {
  await assert.rejects(
    loadPlugins({ dirs: ["no/such/folder"], builtinDir: null }),
    /Cannot load plugins from "no\/such\/folder": no such folder/,
  );
});

Deno.test("resolveTask() merges config over plugin over defaults", async () => {
  const plugins = await loadPlugins({ dirs: [`${fixtures}good`] });
  const task = resolveTask("throws", {
    plugins,
    tasks: { throws: { key: "throws", name: "task_throws", retry: { maxRetries: 7 } } },
  });
  assert.equal(task.name, "task_throws");
  assert.equal(task.queue, "queue_throws");
  assert.deepEqual(task.retry, {
    ...DEFAULT_RETRY_SETTINGS,
    maxRetries: 7,
    backoffMs: 50,
    factor: 2,
    maxBackoffMs: 1000,
    jitter: false,
  });
  assert.equal(task.timeoutMs, null);
});

Deno.test("resolveTask() finds a plugin by its name or by the short key", async () => {
  const plugins = await loadPlugins();
  assert.equal(resolveTask("a", { plugins, tasks: {} }).name, "task_a");
  assert.equal(resolveTask("task_b", { plugins, tasks: {} }).queue, "queue_b");
});

Deno.test("resolveTask() refuses an unknown task and lists the known ones", async () => {
  const plugins = await loadPlugins();
  assert.throws(
    () => resolveTask("zzz", { plugins, tasks: {} }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message ===
        'Cannot find task "zzz": neither a config tasks entry nor a plugin named "zzz" or "task_zzz" (known: task_a, task_b)',
  );
});

Deno.test("resolveRoute() knows a task the config declares without a plugin (Celery-only)", async () => {
  const plugins = await loadPlugins();
  const tasks = { add: { key: "add", name: "proj.tasks.add", queue: "celery" } };
  assert.deepEqual(resolveRoute("add", { plugins, tasks }), {
    key: "add",
    name: "proj.tasks.add",
    queue: "celery",
  });
  assert.deepEqual(knownTaskRefs({ plugins, tasks }), ["add", "task_a", "task_b"]);
});

Deno.test("resolveRoute() falls back to task_<key> on queue_<key> when allowed", () => {
  assert.deepEqual(
    resolveRoute("c", { plugins: [], tasks: {}, allowUnknown: true }),
    { key: "c", name: "task_c", queue: "queue_c" },
  );
});

Deno.test("a plugin's rateLimit and maxConcurrency are checked, and config overrides them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dts_plugin_limits_" });
  try {
    await Deno.writeTextFile(
      `${dir}/limited.ts`,
      `export default { name: "task_limited", rateLimit: "10/m", maxConcurrency: 3, run() { return 1; } };`,
    );
    const plugins = await loadPlugins({ dirs: [dir] });
    const fromPlugin = resolveTask("limited", { plugins, tasks: {} });
    assert.equal(fromPlugin.rateLimit?.text, "10/m");
    assert.equal(fromPlugin.maxConcurrency, 3);
    const configured = resolveTask("limited", {
      plugins,
      tasks: {
        limited: {
          key: "limited",
          name: "task_limited",
          rateLimit: { text: "5/s", perSecond: 5, burst: 1 },
          maxConcurrency: 1,
        },
      },
    });
    assert.equal(configured.rateLimit?.text, "5/s");
    assert.equal(configured.maxConcurrency, 1);
    // A new file: a module once imported stays as it was.
    await Deno.mkdir(`${dir}/bad`);
    await Deno.writeTextFile(
      `${dir}/bad/overlimited.ts`,
      `export default { name: "task_over", rateLimit: "lots", maxConcurrency: 0, run() {} };`,
    );
    await assert.rejects(
      loadPlugins({ dirs: [`${dir}/bad`] }),
      (error: Error) =>
        error.message.includes("overlimited.ts") && error.message.includes('"lots"') &&
        error.message.includes("maxConcurrency"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
