/**
 * A broker restart mid-run on a private second RabbitMQ node (the shared
 * broker is never restarted): every task completes exactly once as far as
 * the dispatcher can tell, and the worker's consumer comes back by itself.
 * Prints the time from broker back to consumers back.
 */
import assert from "node:assert/strict";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { deadLetterQueueName, type TransportStatus } from "../../src/transport/transport.ts";
import { testNamespace } from "../helpers/broker.ts";
import { runDispatch, startWorker, testTask } from "../helpers/in_process.ts";
import { fastReconnect, waitUntil } from "../helpers/test_kit.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";

Deno.test("a broker restart mid-run: every task completes and consumers come back by themselves", async () => {
  await using broker = await startSecondBroker();
  const q = testNamespace().queue("restart");
  // The worker uses the product's reconnect defaults: the measured time is real.
  await using workerTransport = await AmqpTransport.connect(broker.url);
  await using dispatchTransport = await fastReconnect(broker.url);
  const statuses: { at: number; status: TransportStatus }[] = [];
  workerTransport.onStatus((status) => statuses.push({ at: performance.now(), status }));
  const ran = new Map<number, number>();
  const task = testTask("task_restart", q, async (ctx) => {
    const i = ctx.args[0] as number;
    ran.set(i, (ran.get(i) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return i * 2;
  });
  await using worker = await startWorker(workerTransport, [task], { concurrency: 2 });
  const jobs = Array.from({ length: 60 }, (_, i) => ({
    task: task.name,
    queue: q,
    args: [i],
    kwargs: {},
  }));
  let done = 0;
  const dispatching = runDispatch(dispatchTransport, jobs, {
    timeoutMs: 60_000,
    onEvent: (e) => {
      if (e.type === "SUCCESS") done++;
    },
  });
  await waitUntil("some done", () => done >= 6);
  await broker.stopApp();
  const stopped = performance.now();
  await waitUntil("the worker to notice", () => !workerTransport.connected);
  const doneWhileDown = done;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await broker.startApp();
  const back = performance.now();
  await waitUntil("the worker to reconnect", () => worker.ready(), 30_000);
  const reconnected = statuses.find((s) => s.at >= stopped && s.status.type === "connected");
  // The worker may even win the race against our 10 ms poll of the port.
  const consumersBackMs = Math.max(0, Math.round((reconnected?.at ?? performance.now()) - back));
  console.log(`broker back -> worker consuming again: ${consumersBackMs} ms`);
  const { events, outcomes } = await dispatching;

  assert.ok(doneWhileDown < jobs.length, "the restart happened mid-run");
  assert.ok(reconnected, "the worker reported connected after the restart");
  assert.equal(outcomes.length, 60);
  assert.ok(outcomes.every((o) => o.status === "SUCCESS"), JSON.stringify(outcomes));
  assert.deepEqual(
    outcomes.map((o) => o.result).sort((a, b) => (a as number) - (b as number)),
    jobs.map((_, i) => i * 2),
  );
  const finals = events.filter((e) => e.type === "SUCCESS" || e.type === "FAILURE");
  assert.equal(new Set(finals.map((e) => e.id)).size, finals.length, "one final result each");
  assert.equal(ran.size, 60, "every task ran");
  const info = await dispatchTransport.inspectQueue(q);
  assert.equal(info?.messages, 0);
  assert.equal(info?.consumers, 1, "the worker's consumer is back");
  assert.equal((await dispatchTransport.inspectQueue(deadLetterQueueName(q)))?.messages, 0);
  // The node is private and deleted on dispose: no queue cleanup needed.
});
