/**
 * Fleet-wide limits survive a broker SIGKILL mid-run (a private second
 * RabbitMQ node): the slot and lease queues are durable with persistent
 * claims, so after the restart the workers find them again, one of them
 * leads the rate limit again, every task completes, and the limits hold
 * again once the tasks cut short by the crash are done.
 */
import assert from "node:assert/strict";
import { parseRateLimit } from "../../src/limits/rate_limit.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { fastReconnect, waitUntil } from "../helpers/test_kit.ts";

Deno.test("a broker SIGKILL mid-run: limited tasks all complete, a leader leads again, and the limits hold after", async () => {
  await using broker = await startSecondBroker();
  const q = testNamespace().queue("limits_restart");
  const spans: { start: number; end: number }[] = [];
  const task = testTask("task_limits_restart", q, async (ctx) => {
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    spans.push({ start, end: Date.now() });
    return ctx.args[0];
  }, { rateLimit: parseRateLimit("20/s"), maxConcurrency: 2 });
  await using first = await AmqpTransport.connect(broker.url);
  await using second = await AmqpTransport.connect(broker.url);
  await using dispatchTransport = await fastReconnect(broker.url);
  await using w1 = await startWorker(first, [task], { concurrency: 4, name: "w1@t" });
  await using w2 = await startWorker(second, [task], { concurrency: 4, name: "w2@t" });
  const jobs = Array.from(
    { length: 120 },
    (_, i) => ({ task: task.name, queue: q, args: [i], kwargs: {} }),
  );
  let done = 0;
  const dispatching = runDispatch(dispatchTransport, jobs, {
    timeoutMs: 90_000,
    onEvent: (e) => {
      if (e.type === "SUCCESS") done++;
    },
  });
  await waitUntil("some done", () => done >= 30);
  await broker.kill();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await broker.restart();
  const back = Date.now();
  await waitUntil("both workers consuming again", () => w1.ready() && w2.ready(), 30_000);
  const leaders = () => [w1, w2].filter((w) => w.limits()[task.name]?.leader === true).length;
  await waitUntil("a rate-limit leader again", () => leaders() === 1, 15_000);
  const { outcomes } = await dispatching;
  assert.equal(outcomes.length, 120);
  assert.deepEqual(outcomes.filter((o) => o.status !== "SUCCESS").map((o) => o.status), []);

  // Settled again: from a second after the broker is back, neither limit is exceeded.
  const later = spans.filter((s) => s.start >= back + 1000).sort((a, b) => a.start - b.start);
  let running = 0;
  let most = 0;
  for (
    const [, change] of later.flatMap((s) => [[s.start, 1], [s.end, -1]]).sort((a, b) =>
      a[0] - b[0] || a[1] - b[1]
    )
  ) {
    running += change;
    most = Math.max(most, running);
  }
  const rate = (later.length - 1) / ((later.at(-1)!.start - later[0].start) / 1000);
  console.log(
    `after the broker restart: ${later.length} tasks at ${
      rate.toFixed(2)
    }/s, at most ${most} at once; ${leaders()} leader`,
  );
  assert.ok(later.length >= 20, `enough tasks ran after the restart to measure: ${later.length}`);
  assert.ok(most <= 2, `at most 2 at once after the restart, saw ${most}`);
  assert.ok(rate <= 22, `the rate limit holds after the restart: ${rate.toFixed(2)}/s`);
  assert.equal(leaders(), 1);
});
