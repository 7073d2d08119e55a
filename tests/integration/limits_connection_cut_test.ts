/**
 * Fleet-wide limits across dropped connections (a TCP proxy cuts them): a
 * worker whose connection drops while it holds a concurrency slot, or while
 * it leads the rate limit, leaks neither. After the reconnect the slot is
 * given back when its task ends, and the lease goes on with whoever the
 * broker hands it to: one leader, never two.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../src/clock.ts";
import { ConcurrencySlots } from "../../src/limits/concurrency_slots.ts";
import { leaderQueueName, slotQueueName, tokenQueueName } from "../../src/limits/limit_queues.ts";
import { parseRateLimit } from "../../src/limits/rate_limit.ts";
import { RateLeader } from "../../src/limits/rate_leader.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { testLogger } from "../helpers/in_process.ts";
import { TcpProxy } from "../helpers/tcp_proxy.ts";
import { fastReconnect, waitUntil } from "../helpers/test_kit.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a slot held across a cut connection is given back when its task ends; another worker then gets it", async () => {
  await using broker = await testBroker();
  const target = new URL(broker.url);
  await using proxy = TcpProxy.start({
    hostname: target.hostname,
    port: Number(target.port || 5672),
  });
  const task = `task_cut_${testNamespace().prefix}`.replace(/[^A-Za-z0-9_]/g, "_");
  await using cut = await fastReconnect(proxy.url(broker.url));
  await using direct = await fastReconnect(broker.url);
  const options = { task, max: 1, logger: testLogger(), clock: systemClock };
  const holder = new ConcurrencySlots({ ...options, transport: cut });
  const other = new ConcurrencySlots({ ...options, transport: direct });
  try {
    await holder.start();
    await other.start();
    const signal = new AbortController().signal;
    const permit = await holder.acquire(signal);
    proxy.cut(); // the holder's connection drops while its task runs
    await waitUntil("the holder to reconnect", () => cut.connected, 10_000);
    // Alone in line, the holder's resumed subscription gets the claim back; its task still runs.
    await sleep(300);
    assert.equal(holder.held, 1);
    const waiting = other.acquire(signal);
    const early = await Promise.race([
      waiting.then(() => "got it"),
      sleep(500).then(() => "waits"),
    ]);
    assert.equal(early, "waits", "one holder at a time");
    await permit.release();
    const second = await Promise.race([waiting, sleep(5000).then(() => null)]);
    assert.ok(second, "the slot came back after the task ended: no leak");
    await second.release();
    assert.equal(holder.held, 0);
  } finally {
    holder.close();
    other.close();
    await deleteQueues(broker.url, [slotQueueName(task, 0)]);
  }
});

Deno.test("the rate-limit leader whose connection is cut stops leading; exactly one leads after", async () => {
  await using broker = await testBroker();
  const target = new URL(broker.url);
  await using proxy = TcpProxy.start({
    hostname: target.hostname,
    port: Number(target.port || 5672),
  });
  const task = `task_cutlead_${testNamespace().prefix}`.replace(/[^A-Za-z0-9_]/g, "_");
  await using cut = await fastReconnect(proxy.url(broker.url));
  await using direct = await fastReconnect(broker.url);
  const limit = parseRateLimit("10/s");
  const options = { task, limit, logger: testLogger(), clock: systemClock };
  const first = new RateLeader({ ...options, transport: cut });
  const second = new RateLeader({ ...options, transport: direct });
  const stop = new AbortController();
  try {
    const a = await first.start(stop.signal);
    await waitUntil("the first to lead", () => first.leading, 5000);
    const b = await second.start(stop.signal);
    await sleep(200);
    assert.equal(second.leading, false);
    proxy.cut();
    await waitUntil("the second to lead", () => second.leading, 10_000);
    await waitUntil("the first to reconnect", () => cut.connected, 10_000);
    await sleep(500);
    assert.deepEqual([first.leading, second.leading], [false, true], "one leader after the cut");
    stop.abort();
    await Promise.all([a.done, b.done]);
  } finally {
    stop.abort();
    await deleteQueues(broker.url, [leaderQueueName(task), tokenQueueName(task)]);
  }
});
