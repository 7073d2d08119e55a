import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { silentLogger } from "../log/logger.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { tokenQueueName } from "./limit_queues.ts";
import { parseRateLimit } from "./rate_limit.ts";
import { RateLeader } from "./rate_leader.ts";
import { RateTokens } from "./rate_tokens.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `workers` workers of one rate-limited task, each a leader candidate and a token taker. */
async function fleet(rate: string, workers: number) {
  const broker = new MemoryBroker();
  const limit = parseRateLimit(rate);
  const members: {
    transport: MemoryTransport;
    leader: RateLeader;
    tokens: RateTokens;
    stop: AbortController;
    done: Promise<void>;
  }[] = [];
  for (let i = 0; i < workers; i++) {
    const transport = new MemoryTransport(broker);
    const options = { transport, task: "task_x", logger: silentLogger, clock: systemClock };
    const leader = new RateLeader({ ...options, limit });
    const stop = new AbortController();
    const { done } = await leader.start(stop.signal);
    members.push({ transport, leader, tokens: new RateTokens(options), stop, done });
  }
  const close = async () => {
    for (const member of members) {
      member.tokens.close();
      member.stop.abort();
      await member.done;
      await member.transport.close();
    }
  };
  return { broker, members, close };
}

Deno.test("RateLeader and RateTokens: 3 workers share 40/s; 60 starts take about 1.5 s; one leader", async () => {
  const { members, close } = await fleet("40/s", 3);
  const signal = new AbortController().signal;
  await sleep(300); // the bucket fills to its burst (4) while nobody takes
  const starts: number[] = [];
  const take = async (tokens: RateTokens) => {
    await tokens.acquire(signal);
    starts.push(performance.now());
  };
  const began = performance.now();
  await Promise.all(
    members.flatMap(({ tokens }) => Array.from({ length: 20 }, () => take(tokens))),
  );
  const seconds = (performance.now() - began) / 1000;
  // 60 starts: the burst of 4 at once, then 56 at 40/s = 1.4 s.
  assert.ok(seconds >= 1.25 && seconds <= 1.8, `took ${seconds.toFixed(2)} s`);
  assert.equal(members.filter((m) => m.leader.leading).length, 1);
  assert.ok(members.every((m) => m.tokens.taken > 0), "every worker got tokens");
  await close();
});

Deno.test("RateLeader: when the leader's connection closes another leads and the rate goes on", async () => {
  const { members, close } = await fleet("50/s", 2);
  await sleep(100);
  const leader = members.find((m) => m.leader.leading)!;
  const other = members.find((m) => m !== leader)!;
  assert.ok(leader && other);
  leader.stop.abort();
  await leader.done;
  await leader.transport.close();
  await sleep(50);
  assert.equal(other.leader.leading, true);
  const signal = new AbortController().signal;
  const began = performance.now();
  for (let i = 0; i < 25; i++) await other.tokens.acquire(signal);
  const seconds = (performance.now() - began) / 1000;
  assert.ok(seconds >= 0.35 && seconds <= 0.8, `25 tokens at 50/s took ${seconds.toFixed(2)} s`);
  await close().catch(() => {});
});

Deno.test("RateLeader: the bucket holds at most its burst while nobody takes", async () => {
  const { broker, close } = await fleet("100/s", 2);
  await sleep(400);
  const probe = new MemoryTransport(broker);
  assert.equal((await probe.inspectQueue(tokenQueueName("task_x")))?.messages, 10);
  await probe.close();
  await close();
});

Deno.test("RateTokens: an aborted wait rejects and takes no token", async () => {
  const { broker, members, close } = await fleet("1/h", 1);
  const probe = new MemoryTransport(broker);
  const signal = new AbortController().signal;
  await members[0].tokens.acquire(signal); // the new leader's first token
  const abort = new AbortController();
  const waiting = members[0].tokens.acquire(abort.signal);
  await sleep(50);
  abort.abort(new Error("gave up"));
  await assert.rejects(waiting, /gave up/);
  await sleep(20);
  assert.deepEqual(await probe.inspectQueue(tokenQueueName("task_x")), {
    messages: 0,
    consumers: 0,
  });
  await probe.close();
  await close();
});
