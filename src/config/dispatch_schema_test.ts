import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { loadConfig } from "./load.ts";

/** The issues of a config file made of `text`, or [] when it loads. */
async function issuesOf(text: string): Promise<ConfigIssue[]> {
  try {
    await loadConfig({ path: "jobs.yml", readTextFile: () => Promise.resolve(text) });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.issues];
  }
}

Deno.test("dispatch.jobs: after, args_from and on_failure compile; args_from is a dependency too", async () => {
  const config = await loadConfig({
    path: "dag.yml",
    readTextFile: () =>
      Promise.resolve(`name: dag
dispatch:
  jobs:
    - { id: build, task: a }
    - { id: test, task: b, count: 10, args_from: build }
    - { id: report, task: a, after: test, on_failure: continue }
    - { task: b }
`),
  });
  const [build, test, report, plain] = config.dispatch.jobs;
  assert.deepEqual([build.id, build.after, build.argsFrom, build.onFailure], [
    "build",
    [],
    null,
    "skip",
  ]);
  assert.deepEqual([test.after, test.argsFrom, test.count], [["build"], "build", 10]);
  assert.deepEqual([report.after, report.onFailure], [["test"], "continue"]);
  assert.deepEqual([plain.id, plain.after], [null, []]);
});

Deno.test("dispatch.jobs: an unknown id in after or args_from names its path, line and the ids there are", async () => {
  const issues = await issuesOf(`name: dag
dispatch:
  jobs:
    - { id: build, task: a }
    - task: b
      after: [build, biuld]
    - { task: a, args_from: tests }
`);
  assert.deepEqual(issues, [
    {
      path: "dispatch.jobs[1].after[1]",
      message: 'names the job "biuld", which does not exist (ids: build)',
      line: 6,
    },
    {
      path: "dispatch.jobs[2].args_from",
      message: 'names the job "tests", which does not exist (ids: build)',
      line: 7,
    },
  ]);
});

Deno.test("dispatch.jobs: a repeated id is refused where it repeats", async () => {
  const issues = await issuesOf(`name: dag
dispatch:
  jobs:
    - { id: build, task: a }
    - { id: build, task: b }
`);
  assert.deepEqual(issues.map((i) => [i.path, i.line]), [["dispatch.jobs[1].id", 5]]);
  assert.match(issues[0].message, /repeats the id "build" of dispatch\.jobs\[0\]/);
});

Deno.test("dispatch.jobs: a cycle is refused with the ids along it", async () => {
  const issues = await issuesOf(`name: dag
dispatch:
  jobs:
    - { id: build, task: a }
    - { id: test, task: b, after: [build, report] }
    - { id: report, task: a, after: [test] }
    - { id: self, task: a, after: [self] }
`);
  assert.equal(issues.length, 1, JSON.stringify(issues));
  assert.equal(issues[0].path, "dispatch.jobs[1].after");
  assert.equal(issues[0].line, 5);
  assert.match(issues[0].message, /makes a cycle.*: test → report → test$/);
  // Once that cycle is gone, the next one is found.
  const again = await issuesOf(`name: dag
dispatch:
  jobs:
    - { id: self, task: a, after: [self] }
`);
  assert.match(again[0]?.message ?? "", /self → self$/);
});

Deno.test("dispatch.jobs: a bad id, on_failure or after type is a clear error", async () => {
  const issues = await issuesOf(`name: dag
dispatch:
  jobs:
    - { id: "no spaces", task: a }
    - { id: ok, task: a, on_failure: ignore }
    - { task: a, after: 3 }
`);
  assert.deepEqual(issues.map((i) => i.path), [
    "dispatch.jobs[0].id",
    "dispatch.jobs[1].on_failure",
    "dispatch.jobs[2].after",
  ]);
  assert.match(issues[0].message, /must be a job id/);
  assert.match(issues[1].message, /must be one of skip, continue/);
});
