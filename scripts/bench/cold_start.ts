/**
 * From spawning `dts worker` to the first result at a client that sent the
 * task before the worker existed: start-up, connect, declare, consume, load
 * the plugin, run, publish.
 * @module
 */
import { ReplyInbox } from "../../src/client/reply_inbox.ts";
import { openReplyQueue } from "../../src/client/reply_queue.ts";
import { TaskSender } from "../../src/client/send_task.ts";
import { createTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { benchConfig, deleteQueue, dts } from "./dts_process.ts";

/** Milliseconds from spawn to the result. */
export async function coldStartMs(broker: string): Promise<number> {
  const queue = `bench_${crypto.randomUUID().slice(0, 8)}_cold`;
  await using config = await benchConfig(queue);
  const transport = await openTransport(broker);
  let worker: Deno.ChildProcess | null = null;
  try {
    const replyQueue = await openReplyQueue(transport, { timeoutMs: 30_000 });
    const arrived = Promise.withResolvers<number>();
    const inbox = new ReplyInbox({
      transport,
      name: replyQueue,
      onReply: () => arrived.resolve(performance.now()),
    });
    inbox.start();
    const message = createTaskMessage("task_a", { replyTo: replyQueue, args: [0] });
    await new TaskSender({ transport }).send(queue, message);
    const spawnedAt = performance.now();
    worker = dts(broker, ["worker", "--task", "a", "--config", config.path]).spawn();
    const ms = (await arrived.promise) - spawnedAt;
    await inbox.stop();
    await transport.deleteQueue(replyQueue).catch(() => {});
    return ms;
  } finally {
    worker?.kill("SIGTERM");
    await worker?.status;
    await transport.close();
    await deleteQueue(broker, queue);
  }
}
