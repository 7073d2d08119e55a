/**
 * The ceiling: amqplib alone doing what one dts task costs the broker. A
 * client publishes a task (confirmed, persistent) to a durable queue; a
 * server consumes it, publishes the reply (confirmed, persistent) and acks
 * the task once the reply is confirmed; the client consumes the reply.
 * Two shapes: `minimal` (a tiny body, no headers) and `celery` (the very
 * bytes and properties dts sends: a Celery v2 task and its rpc:// result).
 * @module
 */
import amqp from "amqplib";
import type { Options } from "amqplib";
import { Buffer } from "node:buffer";
import { encodeResultMessage } from "../../src/protocol/celery_result_message.ts";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { toPublishOptions } from "../../src/transport/amqp/amqp_properties.ts";
import type { Throughput } from "./measure.ts";

/** What each side publishes, per message. */
interface Shape {
  task(id: string, replyTo: string): { body: Buffer; options: Options.Publish };
  reply(id: string): { body: Buffer; options: Options.Publish };
}

const MINIMAL: Shape = {
  task: (id, replyTo) => ({
    body: Buffer.from("[[], {}, {}]"),
    options: { persistent: true, correlationId: id, replyTo },
  }),
  reply: (id) => ({
    body: Buffer.from('{"status":"SUCCESS"}'),
    options: { persistent: true, correlationId: id },
  }),
};

const CELERY: Shape = {
  task: (id, replyTo) => {
    const { body, props } = encodeTaskMessage(createTaskMessage("bench_noop", { id, replyTo }));
    return { body: Buffer.from(body), options: toPublishOptions({ ...props, persistent: true }) };
  },
  reply: (id) => {
    const { body, props } = encodeResultMessage({
      taskId: id,
      status: "SUCCESS",
      result: null,
      traceback: null,
      children: [],
      dateDone: new Date().toISOString(),
      name: "bench_noop",
      worker: "bench@raw",
      retries: 0,
      queue: "bench",
      runtimeMs: 0.1,
    });
    return { body: Buffer.from(body), options: toPublishOptions({ ...props, persistent: true }) };
  },
};

/** Run `count` round trips with `window` in flight; tasks/s, and each round trip's ms. */
export async function rawLoop(
  broker: string,
  shape: "minimal" | "celery",
  load: { count: number; window: number },
): Promise<Throughput> {
  const make = shape === "celery" ? CELERY : MINIMAL;
  const tag = crypto.randomUUID().slice(0, 8);
  const [queue, replies] = [`bench_${tag}_raw`, `bench_${tag}_raw_reply`];
  const socket = { noDelay: true };
  const client = await amqp.connect(broker, socket);
  const server = await amqp.connect(broker, socket);
  try {
    const clientPub = await client.createConfirmChannel();
    const clientSub = await client.createChannel();
    const serverSub = await server.createChannel();
    const serverPub = await server.createConfirmChannel();
    await clientPub.assertQueue(queue, { durable: true });
    await clientPub.assertQueue(replies, { durable: true });
    await serverSub.prefetch(load.window);
    await serverSub.consume(queue, (msg) => {
      if (!msg) return;
      const reply = make.reply(msg.properties.correlationId);
      serverPub.sendToQueue(replies, reply.body, reply.options, (err) => {
        if (!err) serverSub.ack(msg);
      });
    });
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let done = 0;
    let sent = 0;
    const finished = Promise.withResolvers<void>();
    const sendOne = () => {
      const id = String(sent++);
      const task = make.task(id, replies);
      sentAt.set(id, performance.now());
      clientPub.sendToQueue(queue, task.body, task.options);
    };
    await clientSub.consume(replies, (msg) => {
      if (!msg) return;
      clientSub.ack(msg);
      const id = msg.properties.correlationId;
      latencies.push(performance.now() - (sentAt.get(id) ?? 0));
      sentAt.delete(id);
      done++;
      if (done === load.count) finished.resolve();
      else if (sent < load.count) sendOne();
    });
    const started = performance.now();
    for (let i = 0; i < Math.min(load.window, load.count); i++) sendOne();
    await finished.promise;
    const seconds = (performance.now() - started) / 1000;
    await clientPub.deleteQueue(queue);
    await clientPub.deleteQueue(replies);
    return { perSecond: load.count / seconds, latenciesMs: latencies };
  } finally {
    await client.close();
    await server.close();
  }
}
