/**
 * Retries wait on the broker (delay queues), never in a worker. A broker
 * killed with SIGKILL while retries sit in and leave the delay queues must
 * lose none of them: every task still succeeds (some may run twice; that is
 * at-least-once). Three kill points in the storm, each once that many retries
 * have come back out of the delays, on a private RabbitMQ node.
 *
 * The node runs the settings README recommends: a delay hop that found no
 * route is sent again after 5 s, not RabbitMQ's 180 s. (Once in CI, with the
 * default, 392 retries were still waiting a minute after the restart: a
 * booting node can start its quorum queues before the exchanges they hand
 * messages on to.)
 */
import assert from "node:assert/strict";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { startWorker, testTask } from "../helpers/in_process.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { waitUntil } from "../helpers/test_kit.ts";

const TASKS = 2000;
/** Kill once this many retries have left the delays and succeeded. */
const KILL_AFTER_SUCCESSES = [200, 800, 1400];

for (const killAfter of KILL_AFTER_SUCCESSES) {
  Deno.test(`retries in broker-held delays survive a broker SIGKILL after ${killAfter} of ${TASKS} came back`, async () => {
    await using broker = await startSecondBroker();
    const queue = "queue_delay_kill";
    await using workerTransport = await AmqpTransport.connect(broker.url);
    const failedOnce = new Set<string>();
    const succeeded = new Map<string, number>();
    const task = testTask("task_flaky", queue, (ctx) => {
      if (ctx.retries === 0) {
        failedOnce.add(ctx.id);
        throw new Error("first attempt always fails");
      }
      succeeded.set(ctx.id, (succeeded.get(ctx.id) ?? 0) + 1);
      return "ok";
    }, {
      retry: { maxRetries: 10, backoffMs: 400, factor: 2, maxBackoffMs: 5000, jitter: true },
    });
    await using _worker = await startWorker(workerTransport, [task], { concurrency: 50 });

    {
      await using sender = await AmqpTransport.connect(broker.url);
      const publishes: Promise<void>[] = [];
      for (let i = 0; i < TASKS; i++) {
        const { body, props } = encodeTaskMessage(createTaskMessage(task.name, { args: [i] }));
        publishes.push(sender.publish(queue, body, { ...props, persistent: true }));
      }
      await Promise.all(publishes);
    }
    await waitUntil(`${killAfter} retries to succeed`, () => succeeded.size >= killAfter, 60_000);
    const waitingAtKill = failedOnce.size - succeeded.size;
    await broker.kill();
    await broker.restart();

    await waitUntil(
      "every task to succeed",
      () => succeeded.size === TASKS,
      60_000,
    ).catch(() => {});
    const lost = TASKS - succeeded.size;
    if (lost > 0) {
      // Where the missing ones are: still in the delay ladder, in the task queue, or gone;
      // and what RabbitMQ said about dead-lettering (a hop with no route waits for its resend).
      const queues = await broker.ctl("list_queues", "-q", "name", "messages");
      const log = await Deno.readTextFile(broker.logFile).catch(() => "");
      console.log(
        `queues holding messages: ${
          queues.split("\n").filter((l) => /\s[1-9]/.test(l)).join("; ")
        }\n` +
          log.split("\n").filter((l) => /dead.letter|dlx/i.test(l)).slice(0, 20).join("\n"),
      );
    }
    const ranTwice = [...succeeded.values()].filter((n) => n > 1).length;
    console.log(
      `kill after ${killAfter} came back: ${waitingAtKill} retries waiting at the kill, ` +
        `lost ${lost}, succeeded twice ${ranTwice}`,
    );
    assert.ok(waitingAtKill > 0, "the kill happened while retries were waiting");
    assert.equal(failedOnce.size, TASKS, "every task failed its first attempt");
    assert.equal(lost, 0, `${lost} of ${TASKS} tasks were lost`);
  });
}
