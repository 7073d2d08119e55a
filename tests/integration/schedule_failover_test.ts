/**
 * `dts schedule` failover on RabbitMQ: two scheduler processes, `every: 1s`
 * for about 10 s, the leader SIGKILLed halfway. Every slot fires exactly
 * once (counted by the task ids derived from the slots, in the task queue),
 * none is skipped, and the gap after the failover is printed.
 */
import assert from "node:assert/strict";
import { firedQueueName, scheduleLeaderQueueName } from "../../src/schedule/fired_slots.ts";
import { slotTaskId } from "../../src/schedule/schedule_times.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { CliProcess } from "../helpers/run_cli.ts";
import { drainQueue, tempConfig } from "../helpers/test_kit.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function logLines(process: CliProcess): Record<string, unknown>[] {
  return process.stderr.split("\n").filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line)
  );
}

Deno.test("two dts schedule, every: 1s, the leader SIGKILLed halfway: each slot fired exactly once", async () => {
  await using broker = await testBroker();
  const ns = testNamespace();
  const queue = ns.queue("scheduled");
  const name = `${ns.prefix}_tick`.replace(/[^A-Za-z0-9_.-]/g, "_");
  await using config = await tempConfig(
    `tasks:\n  tick:\n    name: task_tick\n    queue: ${queue}\nschedules:\n  ${name}:\n    task: tick\n    every: 1s\n`,
  );
  await using transport = await openTransport(broker.url);
  const spawn = () =>
    new CliProcess(["schedule", "--config", config.path, "--log-format", "json"], {
      env: { DTS_BROKER_URL: broker.url },
    });
  const first = spawn();
  const second = spawn();
  try {
    await first.waitFor(/"Scheduler started"/, 30_000);
    await second.waitFor(/"Scheduler started"/, 30_000);
    await sleep(5_000);
    const leading = (p: CliProcess) => p.stderr.includes("Leading: firing the schedule");
    assert.equal([first, second].filter(leading).length, 1, "exactly one leads");
    const [leader, standby] = leading(first) ? [first, second] : [second, first];
    leader.kill("SIGKILL");
    const killedAt = Date.now();
    await standby.waitFor(/Leading: firing the schedule/, 10_000);
    await sleep(5_000);
    standby.kill("SIGTERM");
    assert.equal((await standby.finished()).code, 0);

    const messages = await drainQueue(transport, queue);
    const fired = messages.map((m) => ({
      id: m.props.headers.id as string,
      slot: Date.parse(m.props.headers["x-dts-slot"] as string),
    })).sort((a, b) => a.slot - b.slot);
    const took = logLines(standby).find((l) => String(l.msg).startsWith("Leading"));
    const firstAfter = logLines(standby).find((l) => String(l.msg).startsWith("Fired"));
    console.log(
      `${fired.length} slots fired; leader SIGKILLed, the standby led ${
        Date.parse(String(took?.ts)) - killedAt
      } ms later and fired ${firstAfter?.slot} ${firstAfter?.late_ms} ms after its slot (${
        String(firstAfter?.msg)
      }); duplicates: ${fired.length - new Set(fired.map((f) => f.slot)).size}`,
    );
    assert.ok(fired.length >= 9, `fired ${fired.length} slots in about 10 s`);
    assert.equal(new Set(fired.map((f) => f.id)).size, fired.length, "no slot fired twice");
    for (let i = 1; i < fired.length; i++) {
      assert.equal(fired[i].slot - fired[i - 1].slot, 1000, `no slot skipped at ${i}`);
    }
    for (const f of fired) assert.equal(f.id, await slotTaskId(name, f.slot));
    assert.ok(fired.some((f) => f.slot > killedAt), "the standby went on firing");
  } finally {
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
    await deleteQueues(broker.url, [queue, firedQueueName(name), scheduleLeaderQueueName(name)]);
  }
});
