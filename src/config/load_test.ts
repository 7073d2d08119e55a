import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { loadConfig, NO_CONFIG_FILE } from "./load.ts";
import { type Config, defaultConfig } from "./schema.ts";

function fixture(name: string): string {
  return fileURLToPath(new URL(`../../tests/fixtures/config/${name}`, import.meta.url));
}

async function issuesOf(options: Parameters<typeof loadConfig>[0]): Promise<ConfigIssue[]> {
  try {
    await loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.equal(error.exitCode, 2);
    return [...error.issues];
  }
  assert.fail("loadConfig() resolved, expected a ConfigError");
}

/** A file source that never touches the disk. */
function fakeFile(text: string): { path: string; readTextFile: () => Promise<string> } {
  return { path: "fake.yml", readTextFile: () => Promise.resolve(text) };
}

const ERROR_FIXTURES: Record<string, ConfigIssue[]> = {
  "bad_factor.yml": [{ path: "tasks.a.retry.factor", message: "must be >= 1", line: 5 }],
  "unknown_key.yml": [
    { path: "tasks.a.retries", message: "is not allowed (unknown key)", line: 4 },
    { path: "worker.colour", message: "is not allowed (unknown key)", line: 7 },
  ],
  "bad_duration.yml": [
    { path: "dispatch.timeout", message: "must be a duration like 500ms, 30s or 2m", line: 3 },
  ],
  "wrong_type.yml": [
    { path: "worker.concurrency", message: "must be a number, not a string", line: 3 },
    { path: "results", message: "must be a map, not a list", line: 5 },
  ],
  "missing_name.yml": [{ path: "name", message: "is required", line: 2 }],
  "empty.yml": [{ path: "name", message: "is required" }],
  "not_a_map.yml": [{ path: "", message: "must be a map of settings, not a list", line: 1 }],
  "syntax_error.yml": [{
    path: "",
    message: 'YAML syntax error: "{" is not closed with "}"',
    line: 4,
  }],
  "bare_number_duration.yml": [
    { path: "dispatch.timeout", message: "must have a unit: write 60s or 60000ms", line: 3 },
  ],
  "duplicate_key.yml": [
    { path: "tasks.a.timeout", message: "is given more than once (duplicate key)", line: 5 },
  ],
  "bad_queue_type.yml": [
    { path: "worker.queue_type", message: "must be one of classic, quorum", line: 3 },
  ],
  "max_backoff_below_backoff.yml": [
    { path: "tasks.a.retry.max_backoff", message: "must be >= backoff (2000ms)", line: 6 },
  ],
  "scaling_min_above_max.yml": [{ path: "scaling.a.max", message: "must be >= min (5)", line: 5 }],
  "negative_count.yml": [{ path: "dispatch.jobs[0].count", message: "must be >= 1", line: 5 }],
  "bad_port.yml": [{ path: "worker.health_port", message: "must be <= 65535", line: 3 }],
  "duplicate_task_name.yml": [{
    path: "tasks.b.name",
    message: 'must be unique: "task_x" is also the name of tasks.a',
    line: 5,
  }],
};

for (const [name, expected] of Object.entries(ERROR_FIXTURES)) {
  Deno.test(`loadConfig() reports path, message and line for ${name}`, async () => {
    assert.deepEqual(await issuesOf({ path: fixture(name) }), expected);
  });
}

Deno.test("loadConfig() reports every issue of a file with many errors, in line order", async () => {
  assert.deepEqual(await issuesOf({ path: fixture("many_errors.yml") }), [
    { path: "tasks.a.retry.max_retries", message: "must be >= 0", line: 4 },
    { path: "tasks.a.retry.factor", message: "must be >= 1", line: 4 },
    {
      path: "tasks.a.timeout",
      message: "must be a duration like 500ms, 30s or 2m",
      line: 5,
    },
    {
      path: 'tasks."b c"',
      message: "must be a task key made of letters, digits, _ or - (e.g. a)",
      line: 6,
    },
    { path: "dispatch.timeout", message: "must be a duration above 0", line: 8 },
    { path: "dispatch.jobs[0].task", message: "is required", line: 10 },
    { path: "dispatch.jobs[1].extra", message: "is not allowed (unknown key)", line: 12 },
    { path: "worker.queue_type", message: "must be one of classic, quorum", line: 14 },
    { path: "worker.health_port", message: "must be >= 0", line: 15 },
    { path: "log.level", message: "must be one of debug, info, warn, error", line: 17 },
  ]);
});

Deno.test("loadConfig() error message has one line per issue naming the file", async () => {
  const path = fixture("unknown_key.yml");
  const error = await loadConfig({ path }).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.equal(error.file, path);
  assert.equal(
    error.message,
    `Cannot load config "${path}": tasks.a.retries is not allowed (unknown key) (line 4)\n` +
      `Cannot load config "${path}": worker.colour is not allowed (unknown key) (line 7)`,
  );
});

Deno.test("loadConfig() reports a missing file as one issue without a stack", async () => {
  const error = await loadConfig({ path: fixture("does_not_exist.yml") }).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.issues, [{ path: "", message: "cannot read file: no such file" }]);
  assert.ok(error.cause instanceof Deno.errors.NotFound);
  assert.equal(
    error.message,
    `Cannot load config "${fixture("does_not_exist.yml")}": cannot read file: no such file`,
  );
});

Deno.test("loadConfig() reports a zero-byte or comment-only file as missing its name", async () => {
  for (const text of ["", "# nothing yet\n"]) {
    assert.deepEqual(await issuesOf(fakeFile(text)), [{ path: "name", message: "is required" }]);
  }
});

Deno.test("loadConfig() reads the file through the injected readTextFile", async () => {
  const read: string[] = [];
  const config = await loadConfig({
    path: "nowhere/x.yml",
    readTextFile: (path) => {
      read.push(path);
      return Promise.resolve("name: injected\n");
    },
  });
  assert.deepEqual(read, ["nowhere/x.yml"]);
  assert.equal(config.name, "injected");
});

Deno.test("loadConfig() loads the seed config/test-config.yml", async () => {
  const path = fileURLToPath(new URL("../../config/test-config.yml", import.meta.url));
  const expected: Config = {
    ...defaultConfig("Basic two-task execution test"),
    broker: { url: "amqp://guest:guest@localhost:5672/", consumerTimeoutMs: 1_800_000 },
    tasks: {
      a: {
        key: "a",
        name: "task_a",
        queue: "queue_a",
        retry: { maxRetries: 3, backoffMs: 500, factor: 2, maxBackoffMs: 30_000, jitter: true },
        timeoutMs: 30_000,
      },
      b: { key: "b", name: "task_b", queue: "queue_b", retry: {} },
    },
    dispatch: {
      expectedWorkers: 2,
      timeoutMs: 60_000,
      events: false,
      jobs: [
        { task: "a", args: [], kwargs: {}, count: 1 },
        { task: "b", args: [], kwargs: {}, count: 1 },
      ],
    },
    results: { dir: "results" },
    scaling: {
      a: { min: 1, max: 8, backlogPerWorker: 20 },
      b: { min: 1, max: 4, backlogPerWorker: 20 },
    },
    load: { task: "a", rate: 200, durationMs: 30_000, count: null, concurrency: 100 },
  };
  assert.deepEqual(await loadConfig({ path }), expected);
});

Deno.test("loadConfig() compiles every field of the valid fixture", async () => {
  assert.deepEqual(await loadConfig({ path: fixture("valid.yml") }), {
    name: "Full valid config",
    broker: { url: "amqps://user:secret@broker.example:5671/vhost", consumerTimeoutMs: 1_800_000 },
    tasks: {
      a: {
        key: "a",
        name: "task_a",
        queue: "queue_a",
        retry: { maxRetries: 5, backoffMs: 250, factor: 1.5, maxBackoffMs: 120_000, jitter: false },
        timeoutMs: 1_500,
      },
      "slow-one": { key: "slow-one", name: "task_slow-one", queue: "queue_slow-one", retry: {} },
      c: { key: "c", name: "task_c", queue: "queue_c", retry: {} },
    },
    dispatch: {
      expectedWorkers: 3,
      timeoutMs: 120_000,
      events: false,
      jobs: [
        { task: "a", args: [1, "two", { three: 3 }], kwargs: { greeting: "hello" }, count: 3 },
        { task: "slow-one", args: [], kwargs: {}, count: 1 },
      ],
    },
    results: { dir: "out/results" },
    scaling: {
      a: { min: 0, max: 8, backlogPerWorker: 20 },
      c: { min: 1, max: 2, backlogPerWorker: 10 },
    },
    load: { task: "a", rate: 50.5, durationMs: 10_000, count: 1000, concurrency: 16 },
    worker: {
      concurrency: 4,
      autoscale: null,
      autoscaleCooldownMs: 30_000,
      healthPort: 9090,
      healthPortGiven: true,
      healthHost: "127.0.0.1",
      metricsHost: null,
      metricsPort: null,
      queueType: "quorum",
      deliveryLimit: 10,
      maxMessageBytes: 65_536,
      drainTimeoutMs: 5_000,
      prefetch: 8,
      pluginHosts: null,
      killGraceMs: 5000,
      maxTasksPerHost: 0,
      taskTimeoutMs: 600_000,
      maxRedeliveries: 3,
      connectTimeoutMs: null,
      events: false,
    },
    log: { level: "debug", format: "json" },
    schedules: {
      nightly: {
        name: "nightly",
        task: "a",
        times: { kind: "cron", pattern: "0 2 * * *", timezone: "Europe/Berlin" },
        args: [],
        kwargs: { full: true },
        jitterMs: 5000,
        catchUp: "latest",
      },
      heartbeat: {
        name: "heartbeat",
        task: "b",
        times: { kind: "every", everyMs: 30_000 },
        args: [],
        kwargs: {},
        jitterMs: 0,
        catchUp: "none",
      },
    },
  });
});

Deno.test("loadConfig() with no sources gives the defaults named dts", async () => {
  assert.deepEqual(await loadConfig(), defaultConfig("dts"));
  assert.deepEqual(await loadConfig({ env: {}, flags: {} }), defaultConfig());
});

Deno.test("loadConfig() takes a file value over the default", async () => {
  const config = await loadConfig(fakeFile("name: f\nworker: { concurrency: 3 }\n"));
  assert.equal(config.worker.concurrency, 3);
  assert.equal(config.worker.healthPort, 8080);
  assert.equal(config.worker.healthPortGiven, false, "the default port may move when busy");
});

Deno.test("loadConfig() marks a health port chosen by file, env or flag as given", async () => {
  for (
    const options of [
      fakeFile("name: f\nworker: { health_port: 8080 }\n"),
      { env: { DTS_HEALTH_PORT: "8080" } },
      { flags: { healthPort: 8080 } },
    ]
  ) {
    const config = await loadConfig(options);
    assert.equal(config.worker.healthPort, 8080);
    assert.equal(config.worker.healthPortGiven, true, JSON.stringify(options));
  }
});

Deno.test("loadConfig() takes an env value over the file and the default", async () => {
  const file = fakeFile("name: f\nworker: { concurrency: 3 }\nlog: { level: warn }\n");
  const config = await loadConfig({
    ...file,
    env: { DTS_CONCURRENCY: "5", DTS_HEALTH_PORT: "0", DTS_BROKER_URL: "memory://" },
  });
  assert.equal(config.worker.concurrency, 5);
  assert.equal(config.worker.healthPort, 0);
  assert.equal(config.broker.url, "memory://");
  assert.equal(config.log.level, "warn");
});

Deno.test("loadConfig() takes a flag value over env, file and default", async () => {
  const file = fakeFile("name: f\nworker: { concurrency: 3 }\nresults: { dir: from-file }\n");
  const config = await loadConfig({
    ...file,
    env: { DTS_CONCURRENCY: "5", DTS_RESULTS_DIR: "from-env" },
    flags: { concurrency: 7, healthHost: "127.0.0.1", dispatchTimeoutMs: 1_000 },
  });
  assert.equal(config.worker.concurrency, 7);
  assert.equal(config.worker.healthHost, "127.0.0.1");
  assert.equal(config.dispatch.timeoutMs, 1_000);
  assert.equal(config.results.dir, "from-env");
});

Deno.test("loadConfig() maps every flag to its config field", async () => {
  const config = await loadConfig({
    flags: {
      brokerUrl: "amqp://h/",
      resultsDir: "r",
      logLevel: "error",
      logFormat: "pretty",
      concurrency: 2,
      healthPort: 1,
      healthHost: "h",
      metricsHost: "m",
      metricsPort: 2,
      queueType: "quorum",
      dispatchTimeoutMs: 5,
      loadTask: "b",
      loadCount: 9,
      loadDurationMs: 3_000,
      loadRate: 12,
      loadConcurrency: 4,
    },
  });
  const defaults = defaultConfig();
  assert.deepEqual(config, {
    ...defaults,
    broker: { url: "amqp://h/", consumerTimeoutMs: 1_800_000 },
    results: { dir: "r" },
    log: { level: "error", format: "pretty" },
    worker: {
      ...defaults.worker,
      concurrency: 2,
      healthPort: 1,
      healthPortGiven: true,
      healthHost: "h",
      metricsHost: "m",
      metricsPort: 2,
      queueType: "quorum",
    },
    dispatch: { ...defaults.dispatch, timeoutMs: 5 },
    load: { task: "b", count: 9, durationMs: 3_000, rate: 12, concurrency: 4 },
  });
});

Deno.test("loadConfig() maps every DTS_* variable to its config field", async () => {
  const config = await loadConfig({
    env: {
      DTS_BROKER_URL: "amqps://h/",
      DTS_RESULTS_DIR: "r",
      DTS_LOG_LEVEL: "debug",
      DTS_LOG_FORMAT: "json",
      DTS_CONCURRENCY: "6",
      DTS_HEALTH_PORT: "65535",
      DTS_HEALTH_HOST: "::1",
      DTS_METRICS_HOST: "127.0.0.1",
      DTS_METRICS_PORT: "9464",
      DTS_QUEUE_TYPE: "quorum",
      DTS_UNRELATED: "ignored",
    },
  });
  const defaults = defaultConfig();
  assert.deepEqual(config, {
    ...defaults,
    broker: { url: "amqps://h/", consumerTimeoutMs: 1_800_000 },
    results: { dir: "r" },
    log: { level: "debug", format: "json" },
    worker: {
      ...defaults.worker,
      concurrency: 6,
      healthPort: 65_535,
      healthPortGiven: true,
      healthHost: "::1",
      metricsHost: "127.0.0.1",
      metricsPort: 9464,
      queueType: "quorum",
    },
  });
});

Deno.test("loadConfig() treats an empty DTS_* variable as unset", async () => {
  const config = await loadConfig({
    ...fakeFile("name: f\nworker: { concurrency: 3 }\n"),
    env: { DTS_CONCURRENCY: "", DTS_BROKER_URL: "" },
  });
  assert.equal(config.worker.concurrency, 3);
  assert.equal(config.broker.url, null);
});

Deno.test("loadConfig() names the variable for every invalid env value", async () => {
  const issues = await issuesOf({
    env: {
      DTS_CONCURRENCY: "0",
      DTS_HEALTH_PORT: "80a",
      DTS_LOG_LEVEL: "loud",
      DTS_QUEUE_TYPE: "lazy",
      DTS_BROKER_URL: "http://nope/",
    },
  });
  assert.deepEqual(issues, [
    { path: "DTS_CONCURRENCY", message: "must be a whole number >= 1", source: "env", value: "0" },
    {
      path: "DTS_HEALTH_PORT",
      message: "must be a whole number from 0 to 65535",
      source: "env",
      value: "80a",
    },
    {
      path: "DTS_BROKER_URL",
      message: "must be a URL starting with amqp://, amqps:// or memory://",
      source: "env",
      value: "http://nope/",
    },
    {
      path: "DTS_QUEUE_TYPE",
      message: "must be one of classic, quorum",
      source: "env",
      value: "lazy",
    },
    {
      path: "DTS_LOG_LEVEL",
      message: "must be one of debug, info, warn, error",
      source: "env",
      value: "loud",
    },
  ]);
});

Deno.test("loadConfig() names the variable and its value, not a file, in the message of an env issue", async () => {
  const error = await loadConfig({ env: { DTS_CONCURRENCY: "abc" } }).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.equal(error.file, NO_CONFIG_FILE);
  assert.equal(error.message, 'Cannot use DTS_CONCURRENCY="abc": must be a whole number >= 1');
});

Deno.test("loadConfig() names the flag and its value in the message of a flag issue", async () => {
  const error = await loadConfig({
    path: "x.yml",
    readTextFile: () => Promise.resolve("name: x\n"),
    flags: { brokerUrl: "http://h/" },
  }).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.equal(
    error.message,
    'Cannot use --broker "http://h/": must be a URL starting with amqp://, amqps:// or memory://',
  );
});

Deno.test("loadConfig() reports env issues together with file issues", async () => {
  const issues = await issuesOf({
    ...fakeFile("name: f\nworker:\n  queue_type: lazy\n"),
    env: { DTS_HEALTH_PORT: "-1" },
  });
  assert.deepEqual(issues, [
    { path: "worker.queue_type", message: "must be one of classic, quorum", line: 3 },
    {
      path: "DTS_HEALTH_PORT",
      message: "must be a whole number from 0 to 65535",
      source: "env",
      value: "-1",
    },
  ]);
});

Deno.test("loadConfig() ignores an env variable that a flag overrides", async () => {
  const config = await loadConfig({ env: { DTS_CONCURRENCY: "x" }, flags: { concurrency: 2 } });
  assert.equal(config.worker.concurrency, 2);
});

Deno.test("loadConfig() names the flag for an invalid flag value", async () => {
  const issues = await issuesOf({
    ...fakeFile("name: f\n"),
    flags: { concurrency: 0, logFormat: "xml", dispatchTimeoutMs: -5 },
  });
  assert.deepEqual(issues, [
    {
      path: "--timeout",
      message: "must be a duration like 500ms, 30s or 2m",
      source: "flag",
      value: "-5ms",
    },
    { path: "--concurrency", message: "must be >= 1", source: "flag", value: "0" },
    { path: "--log-format", message: "must be one of json, pretty", source: "flag", value: "xml" },
  ]);
});

Deno.test("loadConfig() requires a name in a file but not without one", async () => {
  assert.equal((await loadConfig({ env: { DTS_CONCURRENCY: "2" } })).name, "dts");
  assert.deepEqual(await issuesOf({ ...fakeFile("worker: {}\n"), env: { DTS_CONCURRENCY: "2" } }), [
    { path: "name", message: "is required", line: 1 },
  ]);
});

/** The issues of `text` read as the file x.yml. */
function issuesOfText(text: string | Error): Promise<ConfigIssue[]> {
  return issuesOf({
    path: "x.yml",
    readTextFile: () => text instanceof Error ? Promise.reject(text) : Promise.resolve(text),
  });
}

Deno.test("loadConfig() finds no issue in a valid text and every issue otherwise", async () => {
  const valid = await loadConfig({
    path: "x.yml",
    readTextFile: () => Promise.resolve("name: ok\n"),
  });
  assert.equal(valid.name, "ok");
  assert.deepEqual(await issuesOfText("name: x\nbogus: 1\nlog: { level: loud }\n"), [
    { path: "bogus", message: "is not allowed (unknown key)", line: 2 },
    { path: "log.level", message: "must be one of debug, info, warn, error", line: 3 },
  ]);
});

Deno.test("loadConfig() reports a __proto__ key as unknown", async () => {
  assert.deepEqual(await issuesOfText("name: x\n__proto__: { name: 1 }\n"), [
    { path: "__proto__", message: "is not allowed (unknown key)", line: 2 },
  ]);
});

Deno.test("loadConfig() says why a file cannot be read", async () => {
  assert.deepEqual(await issuesOfText(new Deno.errors.PermissionDenied("no")), [
    { path: "", message: "cannot read file: permission denied" },
  ]);
});

Deno.test("loadConfig() reads a cluster's nodes as a YAML list or one ;-separated string", async () => {
  const listed = await loadConfig(
    fakeFile("name: f\nbroker:\n  url:\n    - amqp://u:p@n1:5672/\n    - amqp://u:p@n2:5672/\n"),
  );
  assert.equal(listed.broker.url, "amqp://u:p@n1:5672/;amqp://u:p@n2:5672/");
  const env = await loadConfig({
    ...fakeFile("name: f\n"),
    env: { DTS_BROKER_URL: "amqp://n1/, amqp://n2/" },
  });
  assert.equal(env.broker.url, "amqp://n1/, amqp://n2/");
});

Deno.test("loadConfig() refuses a failover list naming memory://, at broker.url", async () => {
  const issues = await issuesOfText("name: f\nbroker:\n  url: [amqp://n1/, memory://]\n");
  assert.equal(issues.length, 1);
  assert.equal(issues[0].path, "broker.url");
  assert.match(issues[0].message, /entry 2 is not amqp:\/\/ or amqps:\/\//);
});
