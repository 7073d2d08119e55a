import assert from "node:assert/strict";
import { encodeResultMessage } from "../protocol/celery_result_message.ts";
import { decodeTaskMessage } from "../protocol/celery_task_message.ts";
import type { TaskEvent } from "../report/task_event.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { Transport } from "../transport/transport.ts";
import { collectMissing } from "./collect_missing.ts";
import { dispatch, type DispatchJob } from "./dispatcher.ts";
import type { JournalRecord } from "./journal_record.ts";
import type { EventJournal } from "./reply_collector.ts";

const REPLY_QUEUE = "dts.reply.20261128_100000-4f09a2";

function job(id: string, queue = "queue_a"): DispatchJob {
  return { id, task: "task_a", queue, args: [], kwargs: {} };
}

function success(taskId: string, result: unknown = "ok") {
  return {
    taskId,
    status: "SUCCESS" as const,
    result,
    traceback: null,
    children: [],
    dateDone: new Date().toISOString(),
    worker: "w@h",
    retries: 0,
    runtimeMs: 1,
  };
}

/** Answers every task on `queue` with SUCCESS. */
function fakeWorker(transport: Transport, queue: string, signal: AbortSignal): Promise<void> {
  return (async () => {
    await transport.assertTaskQueue(queue);
    for await (const delivery of transport.consume(queue, { prefetch: 10, signal })) {
      const message = decodeTaskMessage(delivery.body, delivery.props);
      const { body, props } = encodeResultMessage(success(message.id));
      await transport.publish(message.replyTo!, body, props);
      await delivery.ack();
    }
  })();
}

/** A journal in memory; `fail` decides which appends are refused. */
function memoryJournal(fail: (records: readonly JournalRecord[]) => boolean = () => false): {
  journal: EventJournal;
  lines: JournalRecord[];
} {
  const lines: JournalRecord[] = [];
  return {
    lines,
    journal: {
      append(records): Promise<void> {
        if (fail(records)) return Promise.reject(new Error("disk full"));
        lines.push(...records);
        return Promise.resolve();
      },
    },
  };
}

async function collect(events: AsyncIterable<TaskEvent>): Promise<TaskEvent[]> {
  const seen: TaskEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

async function replyQueueDepth(broker: MemoryBroker): Promise<number | undefined> {
  const transport = new MemoryTransport(broker);
  try {
    return (await transport.inspectQueue(REPLY_QUEUE))?.messages;
  } finally {
    await transport.close();
  }
}

Deno.test("dispatch() journals every event under the ids it was given, and uses the reply queue it was told to", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const worker = fakeWorker(transport, "queue_a", stop.signal);
  const { journal, lines } = memoryJournal();
  const events = await collect(dispatch({
    transport,
    jobs: [job("id-1"), job("id-2")],
    timeoutMs: 5000,
    trackStarted: false,
    replyQueue: REPLY_QUEUE,
    journal,
  }));
  stop.abort();
  await worker;
  assert.deepEqual(
    lines.map((line) => line.kind === "event" && `${line.event.type} ${line.event.id}`).sort(),
    ["SENT id-1", "SENT id-2", "SUCCESS id-1", "SUCCESS id-2"],
  );
  assert.deepEqual(
    events.map((e) => e.id).sort(),
    ["id-1", "id-1", "id-2", "id-2"],
  );
  await transport.close();
  // Not kept: deleted at the end.
  assert.equal(await replyQueueDepth(broker), undefined);
});

Deno.test("dispatch() acknowledges a result only once the journal has it", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  const worker = fakeWorker(transport, "queue_a", stop.signal);
  const journalErrors: unknown[] = [];
  // The disk fills up just as the results come in.
  const { journal } = memoryJournal((records) =>
    records.some((r) => r.kind === "event" && r.event.type === "SUCCESS")
  );
  const events = await collect(dispatch({
    transport,
    jobs: [job("id-1")],
    timeoutMs: 5000,
    trackStarted: false,
    replyQueue: REPLY_QUEUE,
    journal,
    onJournalError: (error) => journalErrors.push(error),
    keepReplyQueue: true,
  }));
  stop.abort();
  await worker;
  // This run still reports the result...
  assert.deepEqual(events.map((e) => e.type), ["SENT", "SUCCESS"]);
  assert.equal(journalErrors.length, 1);
  await transport.close();
  // ...and, never acknowledged, it is back in the reply queue for a resume.
  assert.equal(await replyQueueDepth(broker), 1);
});

Deno.test("dispatch() with keepReplyQueue leaves the reply queue after an interrupt, results that came later in it", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const interrupt = new AbortController();
  const { journal, lines } = memoryJournal();
  const events = dispatch({
    transport,
    jobs: [job("id-1"), job("id-2")],
    timeoutMs: 60_000,
    replyQueue: REPLY_QUEUE,
    journal,
    keepReplyQueue: true,
    signal: interrupt.signal,
  });
  const seen: TaskEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    if (seen.length === 2) interrupt.abort("SIGINT");
  }
  assert.deepEqual(seen.map((e) => e.type), ["SENT", "SENT", "INTERRUPTED", "INTERRUPTED"]);
  assert.equal(lines.filter((l) => l.kind === "event" && l.event.type === "INTERRUPTED").length, 2);
  // A worker runs the tasks after all; their results wait for `--resume`.
  const stop = new AbortController();
  const worker = fakeWorker(transport, "queue_a", stop.signal);
  const later = new MemoryTransport(broker);
  const deadline = Date.now() + 5000;
  while (((await later.inspectQueue(REPLY_QUEUE))?.messages ?? 0) < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  stop.abort();
  await worker;
  assert.equal((await later.inspectQueue(REPLY_QUEUE))?.messages, 2);

  // The resume: both results come out of the queue, even past the deadline.
  const resumed = memoryJournal();
  const collected = await collect(collectMissing({
    transport: later,
    replyQueue: REPLY_QUEUE,
    tasks: ["id-1", "id-2"].map((id) => ({
      id,
      task: "task_a",
      queue: "queue_a",
      retries: 0,
      deadline: 0,
      timeoutMs: 60_000,
    })),
    journal: resumed.journal,
  }));
  assert.deepEqual(collected.map((e) => `${e.type} ${e.id}`).sort(), [
    "SUCCESS id-1",
    "SUCCESS id-2",
  ]);
  assert.equal(resumed.lines.length, 2);
  assert.equal((await later.inspectQueue(REPLY_QUEUE))?.messages, 0);
  await later.close();
  await transport.close();
});

Deno.test("collectMissing() times a task out at its deadline, ignores duplicates and what is not its own", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  await transport.assertQueue(REPLY_QUEUE);
  for (const result of [success("id-1"), success("id-1", "again"), success("stranger")]) {
    const { body, props } = encodeResultMessage(result);
    await transport.publish(REPLY_QUEUE, body, props);
  }
  const started = Date.now();
  const events = await collect(collectMissing({
    transport,
    replyQueue: REPLY_QUEUE,
    tasks: [
      { id: "id-1", task: "task_a", queue: "queue_a", retries: 0, deadline: 0, timeoutMs: 1000 },
      {
        id: "id-2",
        task: "task_a",
        queue: "queue_a",
        retries: 0,
        deadline: started + 100,
        timeoutMs: 100,
      },
    ],
  }));
  assert.deepEqual(events.map((e) => `${e.type} ${e.id}`), ["SUCCESS id-1", "TIMEOUT id-2"]);
  const done = events[0];
  assert.equal(done.type === "SUCCESS" && done.result, "ok");
  assert.deepEqual(events[1].type === "TIMEOUT" && events[1].error, {
    type: "TimeoutError",
    message: "No result within 100 ms",
  });
  // Everything read was acknowledged, the stranger's result included.
  assert.equal((await transport.inspectQueue(REPLY_QUEUE))?.messages, 0);
  await transport.close();
});
