/**
 * `dts revoke` as a user runs it: the revocations land in the fleet's
 * stream (what a worker that starts later reads), with the reason and
 * terminate given; a bad call is a usage error.
 */
import assert from "node:assert/strict";
import { decodeEntry, REVOCATION_STREAM } from "../../src/control/revocation_log.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { runCli } from "../helpers/run_cli.ts";
import { spawnWorker, tempConfig } from "../helpers/test_kit.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";

Deno.test("dts revoke writes each id to the revocation stream and prints what it revoked", async () => {
  await using broker = await testBroker();
  const ids: string[] = [crypto.randomUUID(), crypto.randomUUID()];
  const run = await runCli([
    "revoke",
    ...ids,
    "--terminate",
    "--reason",
    "wrong build",
    "--json",
    "--broker",
    broker.url,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout);
  assert.deepEqual(printed.revoked, ids);
  assert.equal(printed.terminate, true);

  await using transport = await openTransport(broker.url);
  const stop = new AbortController();
  const found = new Map<string, { terminate: boolean; reason: string }>();
  const timer = setTimeout(() => stop.abort(), 5000);
  for await (
    const { body } of transport.readStream(REVOCATION_STREAM, {
      from: "first",
      signal: stop.signal,
    })
  ) {
    const entry = decodeEntry(body);
    if (entry?.kind === "revocation" && ids.includes(entry.revocation.taskId)) {
      found.set(entry.revocation.taskId, entry.revocation);
      if (found.size === ids.length) break;
    }
  }
  clearTimeout(timer);
  assert.deepEqual([...found.keys()].sort(), [...ids].sort());
  for (const revocation of found.values()) {
    assert.equal(revocation.terminate, true);
    assert.equal(revocation.reason, "wrong build");
  }
});

Deno.test("dts revoke with no id is a usage error naming what is missing (exit 2)", async () => {
  const run = await runCli(["revoke"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /missing required argument 'id'/);
});

Deno.test("a worker process honours what was revoked before it started and after; dts inspect revoked lists both", async () => {
  await using broker = await testBroker();
  const queue = testNamespace().queue("revoke_inspect");
  await using config = await tempConfig(`tasks:\n  a: { name: task_a, queue: ${queue} }\n`);
  const [before, after] = [crypto.randomUUID(), crypto.randomUUID()];
  const cli = (args: string[]) => runCli([...args, "--broker", broker.url]);
  try {
    assert.equal((await cli(["revoke", before])).code, 0);
    await using _worker = await spawnWorker(["--task", "a", "--config", config.path], {
      brokerUrl: broker.url,
    });
    const revoked = await cli(["revoke", after, "--reason", "later"]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^Revoked 1 task: ${after}$`, "m"));
    let lists: string[][] = [];
    for (let i = 0; i < 20; i++) {
      const inspect = await cli(["inspect", "revoked", "--json", "--timeout", "1500"]);
      assert.equal(inspect.code, 0, inspect.stderr);
      lists = Object.values(JSON.parse(inspect.stdout)) as string[][];
      if (lists.some((ids) => ids.includes(after))) break;
    }
    const mine = lists.find((ids) => ids.includes(before));
    assert.ok(
      mine !== undefined,
      `one worker knows the revoke made before it started: ${JSON.stringify(lists)}`,
    );
    assert.ok(mine.includes(after), "and the one made while it runs");
    const stats = await cli(["inspect", "stats", "--json"]);
    const known = Object.values(
      JSON.parse(stats.stdout) as Record<string, { revoked?: { known: number } }>,
    )
      .map((s) => s.revoked?.known ?? 0);
    assert.ok(known.some((n) => n >= 2), stats.stdout);
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});
