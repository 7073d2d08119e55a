import assert from "node:assert/strict";
import { configErrorMap, formatPath, toPathIssues } from "./issue_messages.ts";
import { ConfigSchema, defaultConfig } from "./schema.ts";

function parse(raw: unknown): ReturnType<typeof ConfigSchema.safeParse> {
  return ConfigSchema.safeParse(raw, { error: configErrorMap });
}

function issues(raw: unknown): string[] {
  const result = parse(raw);
  if (result.success) return [];
  return toPathIssues(result.error.issues).map((i) => `${formatPath(i.path)} ${i.message}`);
}

Deno.test("defaultConfig() fills every documented default", () => {
  assert.deepEqual(defaultConfig(), {
    name: "dts",
    broker: { url: null, consumerTimeoutMs: 1_800_000 },
    tasks: {},
    dispatch: { expectedWorkers: null, timeoutMs: 60_000, jobs: [], events: false },
    results: { dir: "results" },
    scaling: {},
    load: { task: null, rate: null, durationMs: null, count: null, concurrency: 100 },
    worker: {
      concurrency: 1,
      autoscale: null,
      autoscaleCooldownMs: 30_000,
      healthPort: 8080,
      healthPortGiven: false,
      healthHost: "0.0.0.0",
      metricsHost: null,
      metricsPort: null,
      queueType: "classic",
      deliveryLimit: null,
      maxMessageBytes: 1_048_576,
      drainTimeoutMs: 30_000,
      prefetch: null,
      pluginHosts: null,
      killGraceMs: 5000,
      maxTasksPerHost: 0,
      taskTimeoutMs: 600_000,
      maxRedeliveries: 3,
      connectTimeoutMs: null,
      events: false,
    },
    log: { level: "info", format: null },
    schedules: {},
  });
  assert.equal(defaultConfig("scenario").name, "scenario");
});

Deno.test("ConfigSchema names a task task_<key> on queue_<key> and keeps retry partial", () => {
  const result = parse({ name: "n", tasks: { x: { retry: { factor: 3 } }, y: null } });
  assert.ok(result.success);
  assert.deepEqual(result.data.tasks, {
    x: { key: "x", name: "task_x", queue: "queue_x", retry: { factor: 3 } },
    y: { key: "y", name: "task_y", queue: "queue_y", retry: {} },
  });
});

Deno.test("ConfigSchema accepts a bare 0 as a duration", () => {
  const result = parse({ name: "n", worker: { drain_timeout: 0 } });
  assert.ok(result.success);
  assert.equal(result.data.worker.drainTimeoutMs, 0);
});

Deno.test("ConfigSchema refuses a bare number as a duration and says what to write", () => {
  const result = parse({ name: "n", dispatch: { timeout: 60 }, tasks: { a: { timeout: "30" } } });
  assert.ok(!result.success);
  assert.deepEqual(
    result.error.issues.map((issue) => [issue.path.join("."), issue.message]),
    [
      ["tasks.a.timeout", "must have a unit: write 30s or 30000ms"],
      ["dispatch.timeout", "must have a unit: write 60s or 60000ms"],
    ],
  );
});

Deno.test("ConfigSchema accepts empty sections written as null", () => {
  const result = parse({ name: "n", tasks: null, worker: null, log: null, scaling: null });
  assert.ok(result.success);
  assert.deepEqual(result.data, defaultConfig("n"));
});

Deno.test("ConfigSchema accepts equal bounds: max_backoff = backoff, scaling min = max", () => {
  const result = parse({
    name: "n",
    tasks: { a: { retry: { backoff: "1s", max_backoff: "1000ms" } } },
    scaling: { a: { min: 2, max: 2 } },
  });
  assert.ok(result.success);
  assert.deepEqual(result.data.tasks.a.retry, { backoffMs: 1000, maxBackoffMs: 1000 });
});

Deno.test("ConfigSchema allows jobs and scaling for tasks the config does not list", () => {
  const result = parse({
    name: "n",
    dispatch: { jobs: [{ task: "unlisted" }] },
    scaling: { other: { max: 1 } },
    load: { task: "third" },
  });
  assert.ok(result.success);
});

Deno.test("ConfigSchema rejects two tasks on one queue", () => {
  assert.deepEqual(issues({ name: "n", tasks: { a: {}, b: { queue: "queue_a" } } }), [
    'tasks.b.queue must be unique: "queue_a" is also the queue of tasks.a',
  ]);
});

Deno.test("ConfigSchema rejects values outside their ranges", () => {
  assert.deepEqual(
    issues({
      name: "",
      broker: { url: "http://x" },
      tasks: { a: { timeout: "0s", retry: { max_retries: 1.5, jitter: "yes" } } },
      dispatch: { expected_workers: -1, jobs: [{ task: "a", args: {}, kwargs: [] }] },
      scaling: { a: { min: 0 } },
      load: { rate: 0, count: 0, concurrency: 0 },
      worker: { max_message_bytes: 0, delivery_limit: 0, prefetch: 0, events: "yes" },
    }),
    [
      "name must not be empty",
      "broker.url must be a URL starting with amqp://, amqps:// or memory://",
      "tasks.a.retry.max_retries must be a whole number",
      "tasks.a.retry.jitter must be true or false, not a string",
      "tasks.a.timeout must be a duration above 0",
      "dispatch.expected_workers must be >= 0",
      "dispatch.jobs[0].args must be a list, not a map",
      "dispatch.jobs[0].kwargs must be a map, not a list",
      "scaling.a.max is required",
      "load.rate must be > 0",
      "load.count must be >= 1",
      "load.concurrency must be >= 1",
      "worker.delivery_limit must be >= 1",
      "worker.max_message_bytes must be >= 1",
      "worker.prefetch must be >= 1",
      "worker.events must be true or false, not a string",
    ],
  );
});

Deno.test("ConfigSchema reports a missing or null name as required or wrong", () => {
  assert.deepEqual(issues({}), ["name is required"]);
  assert.deepEqual(issues({ name: null }), ["name must be a string, not empty (null)"]);
});

Deno.test("ConfigSchema takes tasks.<key>.max_priority (1..255) and a job's priority (0..255)", () => {
  const result = parse({
    name: "n",
    tasks: { a: { max_priority: 10 } },
    dispatch: { jobs: [{ task: "a", priority: 7 }] },
  });
  assert.ok(result.success);
  assert.equal(result.data.tasks.a.maxPriority, 10);
  assert.equal(result.data.dispatch.jobs[0].priority, 7);
  assert.deepEqual(
    issues({
      name: "n",
      tasks: { a: { max_priority: 0 }, b: { max_priority: 256 } },
      dispatch: { jobs: [{ task: "a", priority: -1 }, { task: "a", priority: 1.5 }] },
    }),
    [
      "tasks.a.max_priority must be >= 1",
      "tasks.b.max_priority must be <= 255",
      "dispatch.jobs[0].priority must be >= 0",
      "dispatch.jobs[1].priority must be a whole number",
    ],
  );
});

Deno.test("ConfigSchema takes tasks.<key>.rate_limit and max_concurrency, and names what is wrong", () => {
  const result = parse({
    name: "n",
    tasks: { a: { rate_limit: "20/s", max_concurrency: 2 }, b: { rate_limit: 5 } },
  });
  assert.ok(result.success);
  assert.deepEqual(result.data.tasks.a.rateLimit, { text: "20/s", perSecond: 20, burst: 2 });
  assert.equal(result.data.tasks.a.maxConcurrency, 2);
  assert.equal(result.data.tasks.b.rateLimit?.text, "5/s");
  const found = issues({
    name: "n",
    tasks: {
      a: { rate_limit: "20 per second" },
      b: { max_concurrency: 0 },
      c: { max_concurrency: 257 },
      d: { rate_limit: "0/m" },
    },
  });
  assert.equal(found.length, 4, found.join("\n"));
  assert.match(found[0], /^tasks\.a\.rate_limit .*"20 per second".*N\/s, N\/m or N\/h/);
  assert.equal(found[1], "tasks.b.max_concurrency must be >= 1");
  assert.equal(found[2], "tasks.c.max_concurrency must be <= 256");
  assert.match(found[3], /^tasks\.d\.rate_limit .*above 0/);
});

Deno.test("ConfigSchema checks schedules: one of cron and every, a cron that parses, a known timezone", () => {
  assert.deepEqual(
    issues({
      name: "n",
      schedules: {
        both: { task: "a", cron: "* * * * *", every: "1m" },
        neither: { task: "a" },
        bad_cron: { task: "a", cron: "every minute" },
        bad_zone: { task: "a", cron: "0 * * * *", timezone: "Mars/Olympus" },
        fast: { task: "a", every: "100ms" },
        zone_without_cron: { task: "a", every: "1m", timezone: "UTC" },
      },
    }).map((issue) => issue.replace(/\(.*$/, "")),
    [
      "schedules.both needs exactly one of cron and every",
      "schedules.neither needs exactly one of cron and every",
      "schedules.bad_cron.cron CronPattern: invalid configuration format ",
      'schedules.bad_zone.timezone unknown timezone "Mars/Olympus" ',
      "schedules.fast.every must be at least 1s",
      "schedules.zone_without_cron.timezone applies to cron only",
    ],
  );
});
