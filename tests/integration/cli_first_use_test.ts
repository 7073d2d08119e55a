/**
 * First use: folders dts must write into are checked before anything is
 * sent, and a problem is one line with exit 2.
 */
import assert from "node:assert/strict";
import { runCli } from "../helpers/run_cli.ts";

Deno.test("dts demo with a results folder that cannot be made says so in one line, exit 2, before sending", async () => {
  const file = await Deno.makeTempFile();
  try {
    const run = await runCli(["demo", "--output", "pretty", "--results-dir", `${file}/sub`]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(
      run.stderr,
      `dts: Cannot save results in "${file}/sub": "${file}" is a file, not a folder\n`,
    );
    assert.equal(run.stdout, "", "nothing was dispatched");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("dts load --report into a folder that cannot be made fails in one line, exit 2, before connecting", async () => {
  const file = await Deno.makeTempFile();
  try {
    const run = await runCli(
      ["load", "--task", "a", "--count", "1", "--report", `${file}/sub/load.html`],
      // Nothing listens there: a connect attempt would exit 3.
      { env: { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/" } },
    );
    assert.equal(run.code, 2, run.stderr);
    assert.equal(
      run.stderr,
      `dts: Cannot write the report in "${file}/sub": "${file}" is a file, not a folder\n`,
    );
  } finally {
    await Deno.remove(file);
  }
});

/** Nothing listens there: a command that tried to connect would exit 3, not 2. */
const NO_BROKER = { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/" };

Deno.test("dts load --task zzz is refused before anything is sent, naming the known tasks", async () => {
  const run = await runCli(["load", "--task", "zzz", "--count", "1"], { env: NO_BROKER });
  assert.equal(run.code, 2, run.stderr);
  assert.equal(
    run.stderr,
    'dts: Cannot find task "zzz": neither a config tasks entry nor a plugin named "zzz" or "task_zzz" (known: task_a, task_b)\n',
  );
});

Deno.test("dts dispatch refuses a job for an unknown task with its path and line, before connecting", async () => {
  const file = "tests/fixtures/config/unknown_task.yml";
  const run = await runCli(["dispatch", "--config", file, "--no-save"], { env: NO_BROKER });
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    /^dts: Cannot load config "tests\/fixtures\/config\/unknown_task\.yml": dispatch\.jobs\[1\]\.task names "zzz", .*; known: add, task_a, task_b \(line 7\)$/m,
  );
  assert.doesNotMatch(run.stderr, /Cannot connect/);
});
