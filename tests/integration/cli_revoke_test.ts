/**
 * `dts revoke` as a user runs it: the revocations land in the fleet's
 * stream (what a worker that starts later reads), with the reason and
 * terminate given; a bad call is a usage error.
 */
import assert from "node:assert/strict";
import { decodeEntry, REVOCATION_STREAM } from "../../src/control/revocation_log.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { testBroker } from "../helpers/broker.ts";
import { runCli } from "../helpers/run_cli.ts";

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
