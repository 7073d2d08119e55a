/**
 * Revocations survive a broker SIGKILL. The stream is on disk, but
 * RabbitMQ 3.10 can leave a stream down after a crash (its state stays
 * `down`; the declare answers "home node … is down or inaccessible" for
 * minutes): so a worker that lived through the kill keeps what it knew,
 * gets later revokes by broadcast, and a worker that starts after the
 * restart learns them from the stream, or else from the live workers
 * (Celery's mingle). On a private RabbitMQ node.
 */
import assert from "node:assert/strict";
import { revokeTasks } from "../../src/client/revoke_tasks.ts";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { startWorker, testTask } from "../helpers/in_process.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { fastReconnect, waitUntil } from "../helpers/test_kit.ts";

Deno.test("revocations made before a broker SIGKILL and after it are honoured, by a worker that lived through it and by one started after", async () => {
  await using broker = await startSecondBroker();
  const queue = "queue_revoke_restart";
  await using transport = await fastReconnect(broker.url);
  const ran = new Set<string>();
  const task = testTask("task_revoke_restart", queue, (ctx) => {
    ran.add(ctx.id);
    return "ran";
  });
  await using survivor = await startWorker(transport, [task]);
  const [beforeKill, afterKill, control] = ["before-kill", "after-kill", "control"].map((tag) =>
    `${tag}-${crypto.randomUUID()}`
  );
  await revokeTasks(transport, [beforeKill]);
  await waitUntil(
    "the survivor to know the first revoke",
    () => survivor.revokedIds().includes(beforeKill),
    5000,
  );

  await broker.kill();
  await broker.restart();
  await waitUntil("the transport to reconnect", () => transport.connected, 30_000);
  await revokeTasks(transport, [afterKill]);
  await waitUntil(
    "the survivor to hear the revoke made after the restart",
    () => survivor.revokedIds().includes(afterKill),
    15_000,
  );

  // A worker started after the restart: from the stream, or from the survivor.
  await using late = await fastReconnect(broker.url);
  await using newcomer = await startWorker(late, [task]);
  await survivor.stop({ drainTimeoutMs: 1000 });
  assert.ok(
    newcomer.revokedIds().includes(beforeKill),
    "the revoke made before the kill is on disk",
  );
  assert.ok(newcomer.revokedIds().includes(afterKill));
  for (const id of [beforeKill, afterKill, control]) {
    const { body, props } = encodeTaskMessage(createTaskMessage(task.name, { id }));
    await late.publish(queue, body, { ...props, persistent: true });
  }
  await waitUntil("the control task to run", () => ran.has(control), 10_000);
  await waitUntil(
    "the queue to be empty",
    async () => (await late.inspectQueue(queue))?.messages === 0,
    5000,
  );
  assert.deepEqual([...ran], [control], "neither revoked task ran");
});
