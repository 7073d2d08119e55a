import assert from "node:assert/strict";
import { BrokerError } from "../errors.ts";
import { encodeResultMessage } from "../protocol/celery_result_message.ts";
import { decodeTaskMessage } from "../protocol/celery_task_message.ts";
import type { TaskEvent } from "../report/task_event.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { Transport } from "../transport/transport.ts";
import { dispatch, type DispatchJob } from "./dispatcher.ts";

const job: DispatchJob = { task: "task_a", queue: "queue_a", args: [1], kwargs: {} };

async function collect(events: AsyncIterable<TaskEvent>): Promise<TaskEvent[]> {
  const seen: TaskEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** A stand-in worker on the memory broker that answers each task with `answer`. */
function fakeWorker(
  transport: Transport,
  answer: (id: string) => Parameters<typeof encodeResultMessage>[0][],
  signal: AbortSignal,
): Promise<void> {
  return (async () => {
    await transport.assertTaskQueue("queue_a");
    for await (const delivery of transport.consume("queue_a", { prefetch: 10, signal })) {
      const message = decodeTaskMessage(delivery.body, delivery.props);
      for (const result of answer(message.id)) {
        const { body, props } = encodeResultMessage(result);
        await transport.publish(message.replyTo!, body, props);
      }
      await delivery.ack();
    }
  })();
}

Deno.test("dispatch() yields SENT, then one final event per task; a duplicate result is ignored", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const success = (id: string) => ({
    taskId: id,
    status: "SUCCESS" as const,
    result: "ok",
    traceback: null,
    children: [],
    dateDone: new Date().toISOString(),
    worker: "w@h",
    retries: 0,
    runtimeMs: 1.5,
  });
  const worker = fakeWorker(transport, (id) => [success(id), success(id)], stop.signal);
  const events = await collect(dispatch({ transport, jobs: [job, job], timeoutMs: 5000 }));
  stop.abort();
  await worker;
  assert.deepEqual(events.map((e) => e.type), ["SENT", "SENT", "SUCCESS", "SUCCESS"]);
  assert.equal(new Set(events.map((e) => e.id)).size, 2);
  const done = events.filter((e) => e.type === "SUCCESS");
  assert.deepEqual(done.map((e) => e.type === "SUCCESS" && [e.result, e.worker, e.runtimeMs]), [
    ["ok", "w@h", 1.5],
    ["ok", "w@h", 1.5],
  ]);
  await transport.close();
});

Deno.test("dispatch() turns a FAILURE result into a FAILURE event with the error", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const worker = fakeWorker(transport, (id) => [{
    taskId: id,
    status: "FAILURE",
    result: { exc_type: "ValueError", exc_message: ["bad"], exc_module: "builtins" },
    traceback: "Traceback ...",
    children: [],
    dateDone: null,
  }], stop.signal);
  const events = await collect(dispatch({ transport, jobs: [job], timeoutMs: 5000 }));
  stop.abort();
  await worker;
  const failure = events.at(-1)!;
  assert.equal(failure.type, "FAILURE");
  assert.equal(failure.type === "FAILURE" && failure.error?.type, "ValueError");
  assert.equal(failure.type === "FAILURE" && failure.error?.message, "bad");
  await transport.close();
});

Deno.test("dispatch() marks a task TIMEOUT when no result comes in time, and the message stays queued", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const events = await collect(dispatch({ transport, jobs: [job], timeoutMs: 50 }));
  assert.deepEqual(events.map((e) => e.type), ["SENT", "TIMEOUT"]);
  assert.equal((await transport.inspectQueue("queue_a"))?.messages, 1);
  await transport.close();
});

Deno.test("dispatch() reports FAILURE when a task cannot be published, after retrying", async () => {
  using broker = new MemoryBroker();
  const inner = new MemoryTransport(broker);
  let attempts = 0;
  const failingPublish = (queue: string, body: Uint8Array, options: object) => {
    if (queue !== "queue_a") return inner.publish(queue, body, options);
    attempts++;
    return Promise.reject(
      new BrokerError("Cannot publish: connection lost", { recoverable: true }),
    );
  };
  // The memory transport with task publishes failing as over a dropped connection.
  const transport = new Proxy(inner, {
    get(target, property) {
      if (property === "publish") return failingPublish;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Transport;
  const events = await collect(
    dispatch({ transport, jobs: [job], timeoutMs: 5000, publishAttempts: 2 }),
  );
  assert.equal(attempts, 2);
  const failure = events.at(-1)!;
  assert.equal(failure.type, "FAILURE");
  assert.equal(failure.type === "FAILURE" && failure.error?.type, "PublishError");
  await inner.close();
});

Deno.test("dispatch() marks every task without a final result INTERRUPTED as soon as the signal aborts", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const worker = fakeWorker(transport, (id) => [{
    taskId: id,
    status: "SUCCESS",
    result: "ok",
    traceback: null,
    children: [],
    dateDone: new Date().toISOString(),
  }], stop.signal);
  const interrupt = new AbortController();
  const nobody: DispatchJob = { ...job, queue: "queue_nobody" };
  const seen: TaskEvent[] = [];
  const started = performance.now();
  for await (
    const event of dispatch({
      transport,
      jobs: [job, nobody],
      timeoutMs: 60_000,
      signal: interrupt.signal,
    })
  ) {
    seen.push(event);
    if (event.type === "SUCCESS") interrupt.abort("SIGINT");
  }
  stop.abort();
  await worker;
  assert.ok(performance.now() - started < 10_000, "stopped waiting at once");
  assert.deepEqual(seen.map((e) => e.type), ["SENT", "SENT", "SUCCESS", "INTERRUPTED"]);
  const last = seen.at(-1)!;
  assert.equal(last.queue, "queue_nobody");
  assert.deepEqual(last.type === "INTERRUPTED" && last.error, {
    type: "InterruptedError",
    message: "dispatch interrupted by SIGINT before a result arrived",
  });
  // The task itself is not withdrawn: it still waits for a worker.
  assert.equal((await transport.inspectQueue("queue_nobody"))?.messages, 1);
  await transport.close();
});

Deno.test("dispatch() sends nothing when the signal aborted before it started", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const events = await collect(
    dispatch({ transport, jobs: [job], timeoutMs: 1000, signal: AbortSignal.abort("SIGTERM") }),
  );
  assert.deepEqual(events, []);
  assert.equal((await transport.inspectQueue("queue_a"))?.messages ?? 0, 0);
  await transport.close();
});
