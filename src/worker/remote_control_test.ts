import assert from "node:assert/strict";
import { inspectWorkers, pingWorkers } from "../client/inspect_workers.ts";
import { createLogger, silentLogger } from "../log/logger.ts";
import { encodeControlRequest, PIDBOX_EXCHANGE } from "../protocol/celery_control_message.ts";
import { fixtureBody, fixtureProps, loadFixture } from "../../tests/helpers/celery_fixtures.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { RevokeCommand } from "./fleet_revocations.ts";
import { pidboxQueueName, type RemoteControlState, serveRemoteControl } from "./remote_control.ts";

function state(workerName: string): RemoteControlState {
  return {
    workerName,
    tasks: () => ["task_a"],
    queues: () => ["queue_a"],
    active: () => [{ id: "t1", name: "task_a" }],
    reserved: () => [{ id: "t2", name: "task_a" }],
    stats: () => ({ pid: 42, uptime: 7 }),
    revoke: () => Promise.resolve(),
    revoked: () => [],
  };
}

async function withWorkers(
  names: string[],
  run: (transport: MemoryTransport) => Promise<void>,
): Promise<void> {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const served = names.map((name) =>
    serveRemoteControl(transport, { state: state(name), logger: silentLogger, signal: stop.signal })
  );
  try {
    while ((await transport.inspectQueue(pidboxQueueName(names.at(-1)!))) === null) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await run(transport);
  } finally {
    stop.abort();
    await Promise.all(served);
    await transport.close();
  }
}

Deno.test("serveRemoteControl() answers ping, stats, active, registered and active_queues", async () => {
  await withWorkers(["w1@h", "w2@h"], async (transport) => {
    assert.deepEqual(await pingWorkers(transport, { timeoutMs: 500, expected: 2 }), [
      "w1@h",
      "w2@h",
    ]);
    const ask = async (method: string) =>
      (await inspectWorkers(transport, { method, timeoutMs: 500, expected: 2 })).get("w1@h");
    assert.deepEqual(await ask("stats"), { pid: 42, uptime: 7 });
    assert.deepEqual(await ask("active"), [{ id: "t1", name: "task_a" }]);
    assert.deepEqual(await ask("reserved"), [{ id: "t2", name: "task_a" }]);
    assert.deepEqual(await ask("registered"), ["task_a"]);
    assert.deepEqual(await ask("active_queues"), [
      { name: "queue_a", exchange: { name: "" }, routing_key: "queue_a" },
    ]);
  });
});

Deno.test("serveRemoteControl() answers Celery's mingle hello with nothing revoked", async () => {
  await withWorkers(["w1@h"], async (transport) => {
    const replies = await inspectWorkers(transport, {
      method: "hello",
      arguments: { from_node: "celery@h", revoked: {} },
      timeoutMs: 500,
      expected: 1,
    });
    assert.deepEqual(Object.fromEntries(replies), { "w1@h": { revoked: {}, clock: 0 } });
  });
});

Deno.test("serveRemoteControl() names an unknown command and survives a Celery worker event", async () => {
  await withWorkers(["w1@h"], async (transport) => {
    const event = loadFixture("event.worker-heartbeat");
    await transport.publish("", fixtureBody(event), {
      ...fixtureProps(event),
      exchange: PIDBOX_EXCHANGE,
    });
    const replies = await inspectWorkers(transport, {
      method: "shutdown_everything",
      timeoutMs: 500,
      expected: 1,
    });
    assert.deepEqual(replies.get("w1@h"), { error: "No such command: shutdown_everything" });
    assert.deepEqual(await pingWorkers(transport, { timeoutMs: 500, expected: 1 }), ["w1@h"]);
  });
});

Deno.test("serveRemoteControl() carries out Celery's broadcast revoke (one id or a list), and answers inspect revoked", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const commands: RevokeCommand[] = [];
  const served = serveRemoteControl(transport, {
    state: {
      ...state("w1@h"),
      revoke: (command) => {
        commands.push(command);
        return Promise.resolve();
      },
      revoked: () => commands.flatMap((c) => c.taskIds),
    },
    logger: silentLogger,
    signal: stop.signal,
  });
  try {
    while ((await transport.inspectQueue(pidboxQueueName("w1@h"))) === null) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // Celery's app.control.revoke(id, terminate=True): a broadcast with no reply wanted.
    for (
      const args of [
        { task_id: "t-42", terminate: true, signal: "SIGTERM" },
        { task_id: ["t-1", "t-2", 7], reason: "cancelled", dts_logged: true },
      ]
    ) {
      const { body, props } = encodeControlRequest({
        method: "revoke",
        arguments: args,
        destination: null,
        ticket: "",
        replyTo: null,
      });
      await transport.publish("", body, { ...props, exchange: PIDBOX_EXCHANGE });
    }
    for (let i = 0; i < 200 && commands.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.deepEqual(commands, [
      { taskIds: ["t-42"], terminate: true, reason: undefined, logged: false },
      { taskIds: ["t-1", "t-2"], terminate: false, reason: "cancelled", logged: true },
    ]);
    const replies = await inspectWorkers(transport, { method: "revoked", timeoutMs: 300 });
    assert.deepEqual([...replies.values()], [["t-42", "t-1", "t-2"]]);
  } finally {
    stop.abort();
    await served;
    await transport.close();
  }
});

Deno.test("serveRemoteControl() warns, naming it, about a command it does not carry out yet", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    format: "json",
    level: "debug",
    write: (l) => lines.push(JSON.parse(l)),
  });
  const served = serveRemoteControl(transport, {
    state: state("w1@h"),
    logger,
    signal: stop.signal,
  });
  try {
    while ((await transport.inspectQueue(pidboxQueueName("w1@h"))) === null) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // Celery's app.control.rate_limit("task_a", "10/m"): a broadcast with no reply wanted.
    const { body, props } = encodeControlRequest({
      method: "rate_limit",
      arguments: { task_name: "task_a", rate_limit: "10/m" },
      destination: null,
      ticket: "",
      replyTo: null,
    });
    await transport.publish("", body, { ...props, exchange: PIDBOX_EXCHANGE });
    for (let i = 0; i < 200 && !lines.some((l) => l.command === "rate_limit"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const warning = lines.find((l) => l.command === "rate_limit");
    assert.equal(warning?.level, "warn");
    assert.match(String(warning?.effect), /the rate limit is not changed/);
  } finally {
    stop.abort();
    await served;
    await transport.close();
  }
});
