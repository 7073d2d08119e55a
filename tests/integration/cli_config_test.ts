/**
 * `dts config check` and config errors as a user sees them: every problem
 * with its path and line, exit 2, no stack trace.
 */
import assert from "node:assert/strict";
import { runCli } from "../helpers/run_cli.ts";

Deno.test("dts config check accepts the seed config", async () => {
  const run = await runCli(["config", "check", "config/test-config.yml"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /config\/test-config\.yml: OK \("Basic two-task execution test", 2 tasks, 2 jobs\)/,
  );
});

Deno.test("dts config check lists every problem with its path and line, exit 2", async () => {
  const file = "tests/fixtures/config/many_errors.yml";
  const run = await runCli(["config", "check", file]);
  assert.equal(run.code, 2);
  const lines = run.stderr.trim().split("\n");
  const problems = lines.filter((l) => l.startsWith(`Cannot load config "${file}": `));
  assert.ok(problems.length >= 5, run.stderr);
  for (const line of problems) assert.match(line, /\(line \d+\)$/, line);
  assert.match(
    run.stderr,
    new RegExp(`^${problems.length} problems in tests/fixtures/config/many_errors\\.yml$`, "m"),
  );
  assert.doesNotMatch(run.stderr, /\n\s+at /);
});

Deno.test("dts config check names the path and line of a bad retry factor", async () => {
  const run = await runCli(["config", "check", "tests/fixtures/config/bad_factor.yml"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /tasks\.a\.retry\.factor must be >= 1 \(line \d+\)/);
  assert.match(run.stderr, /^1 problem in tests\/fixtures\/config\/bad_factor\.yml$/m);
});

Deno.test("dts config check points an unclosed { at the line it opened on", async () => {
  const file = "tests/fixtures/config/syntax_error.yml";
  const run = await runCli(["config", "check", file]);
  assert.equal(run.code, 2);
  assert.equal(
    run.stderr,
    `Cannot load config "${file}": YAML syntax error: "{" is not closed with "}" (line 4)\n` +
      `1 problem in ${file}\n`,
  );
});

Deno.test("dts config check refuses a bare number as a duration, with path, line and what to write", async () => {
  const file = "tests/fixtures/config/bare_number_duration.yml";
  const run = await runCli(["config", "check", file]);
  assert.equal(run.code, 2);
  assert.equal(
    run.stderr,
    `Cannot load config "${file}": dispatch.timeout must have a unit: write 60s or 60000ms (line 3)\n` +
      `1 problem in ${file}\n`,
  );
});

Deno.test("a duration flag without a unit is bad usage that says what to write", async () => {
  const run = await runCli(["dispatch", "--timeout", "60", "--no-save"]);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /'--timeout <time>' argument '60' is invalid\. "60" has no unit: write 60s or 60000ms\./,
  );
});

Deno.test("a bad DTS_* value is a usage error naming the variable", async () => {
  const run = await runCli(["worker", "--task", "a"], { env: { DTS_CONCURRENCY: "lots" } });
  assert.equal(run.code, 2);
  assert.equal(run.stderr, 'dts: Cannot use DTS_CONCURRENCY="lots": must be a whole number >= 1\n');
});

Deno.test("dts config check reports a job naming an unknown task with its path and line; a Celery-only task declared in tasks is fine", async () => {
  const file = "tests/fixtures/config/unknown_task.yml";
  const run = await runCli(["config", "check", file]);
  assert.equal(run.code, 2);
  const known = "known: add, task_a, task_b";
  assert.equal(
    run.stderr,
    `Cannot load config "${file}": dispatch.jobs[1].task names "zzz", which neither a config tasks entry nor a plugin defines; ${known} (line 7)\n` +
      `Cannot load config "${file}": dispatch.jobs[3].task names "ok", which neither a config tasks entry nor a plugin defines; ${known} (line 9)\n` +
      "(tasks of plugin folders count only when given: --plugins DIR)\n" +
      `2 problems in ${file}\n`,
  );
});

Deno.test("dts config check --plugins counts the folder's tasks as known", async () => {
  const file = "tests/fixtures/config/unknown_task.yml";
  const run = await runCli(["config", "check", file, "--plugins", "tests/fixtures/plugins/good"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /dispatch\.jobs\[1\]\.task names "zzz"/);
  assert.doesNotMatch(run.stderr, /"ok"/);
  assert.match(run.stderr, /^1 problem in /m);
});
