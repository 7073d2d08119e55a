/**
 * `dts schedule` refuses what it cannot run, in one line naming what to fix
 * (exit 2), before it connects to any broker.
 */
import assert from "node:assert/strict";
import { runCli } from "../helpers/run_cli.ts";
import { tempConfig } from "../helpers/test_kit.ts";

// Nothing listens there: a refusal must come before any connect.
const NO_BROKER = { DTS_BROKER_URL: "amqp://guest:guest@127.0.0.1:1/" };

Deno.test("dts schedule without a config, without schedules, or naming an unknown task exits 2 saying so", async () => {
  const bare = await runCli(["schedule"], { env: NO_BROKER });
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /no config file; name one with --config/);

  await using empty = await tempConfig("tasks: { a: {} }\n");
  const none = await runCli(["schedule", "--config", empty.path], { env: NO_BROKER });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /has no schedules section/);

  await using unknown = await tempConfig("schedules:\n  tick: { task: nosuch, every: 1m }\n");
  const named = await runCli(["schedule", "--config", unknown.path], { env: NO_BROKER });
  assert.equal(named.code, 2, named.stderr);
  assert.match(named.stderr, /schedules\.tick\.task: Cannot find task "nosuch"/);

  await using badCron = await tempConfig("schedules:\n  tick: { task: a, cron: '99 * * * *' }\n");
  const cron = await runCli(["schedule", "--config", badCron.path], { env: NO_BROKER });
  assert.equal(cron.code, 2, cron.stderr);
  assert.match(cron.stderr, /schedules\.tick\.cron/);
});
