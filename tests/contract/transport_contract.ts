/**
 * One behaviour contract for every `Transport`: each implementation's test
 * file calls `testTransport()` with a way to open a fresh harness per test.
 * @module
 */

import assert from "node:assert/strict";
import { BrokerError, UnroutableError } from "../../src/errors.ts";
import {
  deadLetterQueueName,
  type Delivery,
  MAX_DELAY_MS,
  type StreamEntry,
  type StreamStart,
  type Transport,
} from "../../src/transport/transport.ts";

/** What one contract test gets: a transport, more connections, and unique queue names. */
export interface TransportHarness extends AsyncDisposable {
  /** The transport under test. */
  readonly transport: Transport;
  /** Another connection to the same broker; closed on dispose (closing it earlier is fine). */
  other(): Promise<Transport>;
  /** A queue name unique to this test; the queue and its `.dead` are deleted on dispose. */
  queue(name: string): string;
  /** Another queue to delete on dispose (e.g. a delay queue). */
  track(queue: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);
const text = (body: Uint8Array): string => decoder.decode(body);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a consume (or stream) iteration with timeouts, keeping an unanswered
 * `next()` for the next read.
 */
class Reader<T = Delivery> {
  #iterator: AsyncIterator<T>;
  #pending: Promise<IteratorResult<T>> | null = null;

  constructor(iterable: AsyncIterable<T>) {
    this.#iterator = iterable[Symbol.asyncIterator]();
  }

  /** Start the iteration (a stream reader attaches on its first `next()`) without waiting. */
  start(): void {
    this.#pending ??= this.#iterator.next();
  }

  /** The next item, null when none comes within `ms`, "done" when the iteration ended. */
  async next(ms = 3000): Promise<T | null | "done"> {
    this.#pending ??= this.#iterator.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    });
    try {
      const result = await Promise.race([this.#pending, timeout]);
      if (result === null) return null;
      this.#pending = null;
      return result.done ? "done" : result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next item, failing the test when none comes. */
  async take(ms = 3000): Promise<T> {
    const item = await this.next(ms);
    assert.ok(item !== null && item !== "done", `expected an item, got ${item}`);
    return item;
  }
}

/** The next `count` entries of a stream reader as `[offset, body]` pairs. */
async function takeEntries(
  reader: Reader<StreamEntry>,
  count: number,
): Promise<[number, string][]> {
  const entries: [number, string][] = [];
  for (let i = 0; i < count; i++) {
    const entry = await reader.take();
    entries.push([entry.offset, text(entry.body)]);
  }
  return entries;
}

/** A stream reader of `transport`, from `from`, ended by `signal`. */
function streamReader(
  transport: Transport,
  stream: string,
  from: StreamStart,
  signal: AbortSignal,
): Reader<StreamEntry> {
  return new Reader(transport.readStream(stream, { from, signal }));
}

/** Long enough that no stream test sees an entry trimmed by age. */
const STREAM = { maxAgeMs: 10 * 60_000 };

async function waitForDepth(
  transport: Transport,
  queue: string,
  messages: number,
  withinMs = 3000,
): Promise<void> {
  const deadline = performance.now() + withinMs;
  let depth: number | undefined;
  while (performance.now() < deadline) {
    depth = (await transport.inspectQueue(queue))?.messages;
    if (depth === messages) return;
    await sleep(20);
  }
  assert.fail(`queue "${queue}" holds ${depth} messages, expected ${messages}`);
}

/** Register the transport contract tests for one implementation. */
export function testTransport(name: string, open: () => Promise<TransportHarness>): void {
  const test = (what: string, fn: (h: TransportHarness) => Promise<void>): void => {
    Deno.test(`${name}: ${what}`, async () => {
      await using harness = await open();
      await fn(harness);
    });
  };

  test("a task queue with maxPriority delivers higher priorities first, in order within one; a requeued message goes back before its peers", async (h) => {
    const t = h.transport;
    const q = h.queue("prio");
    await t.assertTaskQueue(q, { maxPriority: 5 });
    await t.assertTaskQueue(q, { maxPriority: 5 });
    for (
      const [body, priority] of [["low1", 0], ["low2", 0], ["high1", 5], ["mid", 3], [
        "high2",
        9,
      ]] as const
    ) {
      await t.publish(q, bytes(body), { persistent: true, priority });
    }
    await waitForDepth(t, q, 5);
    const stop = new AbortController();
    const reader = new Reader(t.consume(q, { prefetch: 1, signal: stop.signal }));
    const first = await reader.take();
    // 9 counts as the queue's maximum, 5: after high1, which came first.
    assert.equal(text(first.body), "high1");
    await first.requeue();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const delivery = await reader.take();
      seen.push(text(delivery.body));
      await delivery.ack();
    }
    assert.deepEqual(seen, ["high1", "high2", "mid", "low1", "low2"]);
    stop.abort();
  });

  test("a quorum task queue with maxPriority is refused, saying how to fix it", async (h) => {
    const q = h.queue("prio_quorum");
    await assert.rejects(
      h.transport.assertTaskQueue(q, { type: "quorum", maxPriority: 5 }),
      /max_priority 5: a priority queue must be classic .*worker\.queue_type: classic/,
    );
  });

  test("publish() then consume() delivers the message and ack() removes it", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    await t.publish(q, bytes("hello"), { persistent: true });
    assert.deepEqual(await t.inspectQueue(q), { messages: 1, consumers: 0 });
    const stop = new AbortController();
    const reader = new Reader(t.consume(q, { prefetch: 1, signal: stop.signal }));
    const delivery = await reader.take();
    assert.equal(text(delivery.body), "hello");
    assert.equal(delivery.queue, q);
    assert.equal(delivery.redelivered, false);
    assert.deepEqual(await t.inspectQueue(q), { messages: 0, consumers: 1 });
    await delivery.ack();
    stop.abort();
    assert.equal(await reader.next(), "done");
    // Closing returns unacked messages: an empty queue now proves the ack took.
    await t.close();
    const other = await h.other();
    assert.deepEqual(await other.inspectQueue(q), { messages: 0, consumers: 0 });
  });

  test("consume() holds at most prefetch unsettled deliveries", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    for (let i = 1; i <= 5; i++) await t.publish(q, bytes(`m${i}`));
    const stop = new AbortController();
    const reader = new Reader(t.consume(q, { prefetch: 2, signal: stop.signal }));
    const first = await reader.take();
    const second = await reader.take();
    assert.deepEqual([text(first.body), text(second.body)], ["m1", "m2"]);
    assert.equal(await reader.next(200), null);
    await first.ack();
    assert.equal(text((await reader.take()).body), "m3");
    assert.equal(await reader.next(100), null);
    assert.deepEqual(await t.inspectQueue(q), { messages: 2, consumers: 1 });
    stop.abort();
  });

  test("setPrefetch() raised on a running consumer lets more deliveries in without settling any", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    for (let i = 1; i <= 6; i++) await t.publish(q, bytes(`m${i}`));
    const stop = new AbortController();
    const consumer = t.consume(q, { prefetch: 1, signal: stop.signal });
    const reader = new Reader(consumer);
    const held = [await reader.take()];
    assert.equal(await reader.next(200), null, "prefetch 1 holds one");
    await consumer.setPrefetch(3);
    held.push(await reader.take(), await reader.take());
    assert.deepEqual(held.map((d) => text(d.body)), ["m1", "m2", "m3"]);
    // Taken before the change, m1 is still settled as any other delivery.
    for (const delivery of held) await delivery.ack();
    stop.abort();
    await assert.rejects(consumer.setPrefetch(-1), RangeError);
  });

  test("setPrefetch() lowered holds at most the new prefetch once the earlier deliveries are settled", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    for (let i = 1; i <= 8; i++) await t.publish(q, bytes(`m${i}`));
    const stop = new AbortController();
    const consumer = t.consume(q, { prefetch: 3, signal: stop.signal });
    const reader = new Reader(consumer);
    const before = [await reader.take(), await reader.take(), await reader.take()];
    await consumer.setPrefetch(1);
    for (const delivery of before) await delivery.ack();
    // RabbitMQ may have handed the re-subscribed consumer its one already; memory:// hands it now.
    const first = await reader.take();
    assert.equal(await reader.next(300), null, "one at a time now");
    await first.ack();
    const second = await reader.take();
    assert.equal(await reader.next(300), null, "still one at a time");
    await second.ack();
    assert.deepEqual([text(first.body), text(second.body)], ["m4", "m5"]);
    stop.abort();
  });

  test("setPrefetch() before the iteration starts is the prefetch it starts with", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    for (let i = 1; i <= 3; i++) await t.publish(q, bytes(`m${i}`));
    const stop = new AbortController();
    const consumer = t.consume(q, { prefetch: 1, signal: stop.signal });
    await consumer.setPrefetch(2);
    const reader = new Reader(consumer);
    const held = [await reader.take(), await reader.take()];
    assert.equal(await reader.next(200), null);
    for (const delivery of held) await delivery.ack();
    assert.equal(text((await reader.take()).body), "m3");
    stop.abort();
  });

  test("requeue() gives the message back, marked redelivered", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    await t.publish(q, bytes("again"));
    const stop = new AbortController();
    const reader = new Reader(t.consume(q, { prefetch: 1, signal: stop.signal }));
    const first = await reader.take();
    assert.equal(first.redelivered, false);
    await first.requeue();
    const second = await reader.take();
    assert.equal(text(second.body), "again");
    assert.equal(second.redelivered, true);
    await second.ack();
    await assert.rejects(second.ack(), BrokerError);
    stop.abort();
  });

  test("close() returns unacked deliveries to the queue for another consumer", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    await t.publish(q, bytes("one"));
    await t.publish(q, bytes("two"));
    const reader = new Reader(t.consume(q, { prefetch: 2 }));
    const held = [await reader.take(), await reader.take()];
    const other = await h.other();
    const stop = new AbortController();
    const otherReader = new Reader(other.consume(q, { prefetch: 5, signal: stop.signal }));
    assert.equal(await otherReader.next(200), null);
    await t.close();
    assert.equal(await reader.next(), "done");
    const again = [await otherReader.take(), await otherReader.take()];
    assert.deepEqual(again.map((d) => text(d.body)).sort(), ["one", "two"]);
    assert.ok(again.every((d) => d.redelivered));
    await assert.rejects(held[0].ack(), (error: unknown) => {
      return error instanceof BrokerError && error.recoverable;
    });
    for (const delivery of again) await delivery.ack();
    stop.abort();
  });

  test("aborting a consumer ends the iteration; held deliveries can still be settled", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    await t.publish(q, bytes("one"));
    await t.publish(q, bytes("two"));
    const stop = new AbortController();
    const reader = new Reader(t.consume(q, { prefetch: 2, signal: stop.signal }));
    const held = await reader.take();
    assert.equal(text(held.body), "one");
    stop.abort();
    assert.equal(await reader.next(), "done");
    // "two" was delivered but never read: it goes back at once.
    await waitForDepth(t, q, 1);
    await held.ack();
    const next = await t.get(q);
    assert.ok(next);
    assert.equal(text(next.body), "two");
    await next.ack();
    await t.close();
    const other = await h.other();
    assert.deepEqual(await other.inspectQueue(q), { messages: 0, consumers: 0 });
  });

  test("a queue with maxLength keeps the newest ready messages, on publish and on requeue; held ones do not count", async (h) => {
    const t = h.transport;
    const q = h.queue("capped");
    await t.assertQueue(q, { maxLength: 2 });
    for (const name of ["one", "two", "three"]) await t.publish(q, bytes(name));
    await waitForDepth(t, q, 2);
    const held = await t.get(q);
    assert.ok(held);
    assert.equal(text(held.body), "two");
    await t.publish(q, bytes("four"));
    await t.publish(q, bytes("five"));
    await waitForDepth(t, q, 2);
    // Back at the head, one past the limit: the oldest ready one goes.
    await held.requeue();
    await waitForDepth(t, q, 2);
    const left: string[] = [];
    for (let next = await t.get(q); next !== null; next = await t.get(q)) {
      left.push(text(next.body));
      await next.ack();
    }
    assert.equal(left.length, 2);
    assert.ok(left.includes("five"), `the newest stays: ${left}`);
  });

  test("a single active consumer queue delivers to the earliest consumer only; when it cancels, what it held goes to the next", async (h) => {
    const t = h.transport;
    const q = h.queue("sac");
    await t.assertQueue(q, { singleActiveConsumer: true });
    const other = await h.other();
    const first = new AbortController();
    const second = new AbortController();
    const firstReader = new Reader(t.consume(q, { prefetch: 1, signal: first.signal }));
    firstReader.start();
    await waitForConsumers(t, q, 1);
    const secondReader = new Reader(other.consume(q, { prefetch: 5, signal: second.signal }));
    secondReader.start();
    await waitForConsumers(t, q, 2);
    await t.publish(q, bytes("one"));
    await t.publish(q, bytes("two"));
    const held = await firstReader.take();
    assert.equal(text(held.body), "one");
    // The second has room for five and is not given "two": it is not the active one.
    assert.equal(await secondReader.next(300), null);
    first.abort();
    assert.equal(await firstReader.next(), "done");
    await held.requeue();
    const taken = [await secondReader.take(), await secondReader.take()];
    assert.deepEqual(taken.map((d) => text(d.body)).sort(), ["one", "two"]);
    for (const delivery of taken) await delivery.ack();
    second.abort();
  });

  test("a single active consumer queue passes to the next consumer when the active one's connection closes", async (h) => {
    const t = h.transport;
    const q = h.queue("sac");
    await t.assertQueue(q, { singleActiveConsumer: true });
    const other = await h.other();
    const firstReader = new Reader(other.consume(q, { prefetch: 1 }));
    firstReader.start();
    await waitForConsumers(t, q, 1);
    const stop = new AbortController();
    const secondReader = new Reader(t.consume(q, { prefetch: 1, signal: stop.signal }));
    secondReader.start();
    await waitForConsumers(t, q, 2);
    await t.publish(q, bytes("lease"), { persistent: true });
    await t.publish(q, bytes("spare"), { persistent: true });
    assert.equal(text((await firstReader.take()).body), "lease");
    assert.equal(await secondReader.next(200), null);
    await other.close();
    const lease = await secondReader.take();
    assert.equal(text(lease.body), "lease");
    assert.equal(lease.redelivered, true);
    await lease.ack();
    assert.equal(text((await secondReader.take()).body), "spare");
    stop.abort();
  });

  test("publish() refuses a delay past MAX_DELAY_MS, a negative one, and one to another exchange", async (h) => {
    const t = h.transport;
    const q = h.queue("too_long");
    await t.assertTaskQueue(q);
    await assert.rejects(t.publish(q, bytes("x"), { delayMs: MAX_DELAY_MS + 1 }), RangeError);
    await assert.rejects(t.publish(q, bytes("x"), { delayMs: -5 }), RangeError);
    await assert.rejects(
      t.publish(q, bytes("x"), { delayMs: 10, exchange: "amq.direct" }),
      TypeError,
    );
    assert.equal((await t.inspectQueue(q))?.messages, 0);
  });

  test("publish() with delayMs holds the message in the broker, even after the publisher closed", async (h) => {
    const t = h.transport;
    const q = h.queue("delayed");
    const delayMs = 250;
    await t.assertTaskQueue(q);
    const publisher = await h.other();
    const start = performance.now();
    await publisher.publish(q, bytes("later"), { delayMs, persistent: true });
    await publisher.close();
    let arrivedAfter = -1;
    while (performance.now() - start < 3000) {
      const info = await t.inspectQueue(q);
      const answeredAfter = performance.now() - start;
      if (info?.messages === 1) {
        arrivedAfter = answeredAfter;
        break;
      }
      assert.equal(info?.messages, 0);
      await sleep(15);
    }
    assert.ok(arrivedAfter >= delayMs, `arrived after ${arrivedAfter} ms, before ${delayMs} ms`);
    const delivery = await t.get(q);
    assert.ok(delivery);
    assert.equal(text(delivery.body), "later");
    assert.equal(delivery.props.persistent, true);
    await delivery.ack();
  });

  test("release() puts a copy at the tail, not marked redelivered, headers merged and broker headers left out", async (h) => {
    const t = h.transport;
    const q = h.queue("release");
    await t.assertTaskQueue(q);
    await t.publish(q, bytes("first"), {
      persistent: true,
      headers: { keep: "me", "x-death": [{ count: 1 }], "x-delivery-count": 3 },
    });
    await t.publish(q, bytes("second"), { persistent: true });
    const first = await t.get(q);
    assert.ok(first);
    await first.release({ "x-dts-redeliveries": 1 });
    assert.equal(first.settled, true);
    const second = await t.get(q);
    assert.ok(second);
    assert.equal(text(second.body), "second", "the released copy went to the tail");
    await second.ack();
    const copy = await t.get(q);
    assert.ok(copy);
    assert.equal(text(copy.body), "first");
    assert.equal(copy.redelivered, false);
    assert.equal(copy.props.persistent, true);
    assert.deepEqual(copy.props.headers, { keep: "me", "x-dts-redeliveries": 1 });
    await copy.ack();
    assert.equal((await t.inspectQueue(q))?.messages, 0);
    await assert.rejects(first.release(), BrokerError, "settled once");
  });

  test("deadLetter() moves the message to <queue>.dead with the reason", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    await t.publish(q, bytes("poison"), {
      headers: { task: "task_a", retries: 3 },
      correlationId: "c-1",
      persistent: true,
    });
    const stop = new AbortController();
    const reader = new Reader(t.consume(q, { prefetch: 1, signal: stop.signal }));
    const delivery = await reader.take();
    await delivery.deadLetter("unknown task", { "x-dts-error": "no plugin named task_a" });
    stop.abort();
    const dead = await t.get(deadLetterQueueName(q));
    assert.ok(dead, "the dead-letter queue is empty");
    assert.equal(text(dead.body), "poison");
    assert.equal(dead.props.correlationId, "c-1");
    assert.equal(dead.props.persistent, true);
    const headers = dead.props.headers;
    assert.equal(headers["x-dts-reason"], "unknown task");
    assert.equal(headers["x-dts-original-queue"], q);
    assert.equal(headers["x-dts-error"], "no plugin named task_a");
    assert.equal(headers.task, "task_a");
    assert.equal(headers.retries, 3);
    const deadAt = Date.parse(String(headers["x-dts-dead-at"]));
    assert.ok(
      Math.abs(Date.now() - deadAt) < 60_000,
      `bad x-dts-dead-at ${headers["x-dts-dead-at"]}`,
    );
    await dead.ack();
    await t.close();
    const other = await h.other();
    assert.deepEqual(await other.inspectQueue(q), { messages: 0, consumers: 0 });
  });

  test("message properties and typed headers survive the round trip", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    const headers = {
      lang: "py",
      retries: 0,
      negative: -1,
      small: 128,
      big: 2 ** 31,
      ratio: 1.5,
      expires: 1795863214.43,
      eta: null,
      ignore_result: false,
      timelimit: [300, 600],
      mixed: [1, 2.5, "x", null, true],
      nested: { depth: 2, inner: { ok: true } },
    };
    await t.publish(q, bytes("{}"), {
      headers,
      contentType: "application/json",
      contentEncoding: "utf-8",
      correlationId: "corr-1",
      replyTo: "reply-queue",
      messageId: "msg-1",
      priority: 0,
      persistent: true,
    });
    const delivery = await t.get(q);
    assert.ok(delivery);
    assert.deepEqual(delivery.props, {
      headers,
      contentType: "application/json",
      contentEncoding: "utf-8",
      correlationId: "corr-1",
      replyTo: "reply-queue",
      messageId: "msg-1",
      priority: 0,
      persistent: true,
    });
    await delivery.ack();
  });

  test("publish() to a missing queue or exchange rejects, and the transport stays usable", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    await assert.rejects(t.publish(h.queue("missing"), bytes("x")), UnroutableError);
    await assert.rejects(
      t.publish("nowhere", bytes("x"), { exchange: "amq.topic" }),
      UnroutableError,
    );
    await assert.rejects(
      t.publish("any", bytes("x"), { exchange: h.queue("no_such_exchange") }),
      BrokerError,
    );
    await t.publish(q, bytes("fine"));
    assert.deepEqual(await t.inspectQueue(q), { messages: 1, consumers: 0 });
  });

  test("publish() with mandatory: false drops an unroutable message without an error; a routed one still arrives", async (h) => {
    const t = h.transport;
    const q = h.queue("events");
    const ns = q; // unique routing key prefix for this test
    await assert.rejects(
      t.publish(`${ns}.nobody`, bytes("x"), { exchange: "amq.topic" }),
      UnroutableError,
    );
    await t.publish(`${ns}.nobody`, bytes("dropped"), { exchange: "amq.topic", mandatory: false });
    await t.publish(h.queue("missing"), bytes("dropped"), { mandatory: false });
    await t.assertQueue(q, { durable: false, autoDelete: true });
    await t.bindQueue(q, "amq.topic", `${ns}.#`);
    await t.publish(`${ns}.task.sent`, bytes("kept"), {
      exchange: "amq.topic",
      mandatory: false,
      persistent: false,
    });
    const delivery = await t.get(q);
    assert.equal(delivery && text(delivery.body), "kept");
    assert.equal(delivery?.props.persistent, undefined);
    await delivery?.ack();
    assert.equal(await t.get(q), null);
  });

  test("assertQueue() declares a quorum queue; one that would be auto-delete is refused", async (h) => {
    const t = h.transport;
    const q = h.queue("quorum_plain");
    await t.assertQueue(q, { type: "quorum", expiresMs: 60_000 });
    await t.publish(q, bytes("kept"));
    assert.deepEqual(await t.inspectQueue(q), { messages: 1, consumers: 0 });
    await assert.rejects(
      t.assertQueue(h.queue("quorum_auto"), { type: "quorum", autoDelete: true }),
      (error: unknown) =>
        error instanceof RangeError &&
        /a quorum queue is durable and never auto-delete/.test(error.message),
    );
  });

  test("bindQueue() routes topic patterns from an exchange", async (h) => {
    const t = h.transport;
    const one = h.queue("one_word");
    const any = h.queue("any_words");
    const ns = one; // unique routing key prefix for this test
    await t.assertQueue(one, { durable: false });
    await t.assertQueue(any, { durable: false });
    await t.bindQueue(one, "amq.topic", `${ns}.*`);
    await t.bindQueue(any, "amq.topic", `${ns}.#`);
    await t.publish(`${ns}.a`, bytes("1"), { exchange: "amq.topic" });
    await t.publish(`${ns}.a.b`, bytes("2"), { exchange: "amq.topic" });
    assert.equal((await t.inspectQueue(one))?.messages, 1);
    assert.equal((await t.inspectQueue(any))?.messages, 2);
  });

  test("purgeQueue() drops ready messages and counts them", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    for (let i = 0; i < 3; i++) await t.publish(q, bytes(`${i}`));
    assert.equal(await t.purgeQueue(q), 3);
    assert.deepEqual(await t.inspectQueue(q), { messages: 0, consumers: 0 });
    await assert.rejects(t.purgeQueue(h.queue("missing")), BrokerError);
  });

  test("get() takes one message or returns null", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertTaskQueue(q);
    assert.equal(await t.get(q), null);
    await t.publish(q, bytes("got"));
    const first = await t.get(q);
    assert.ok(first);
    assert.equal(text(first.body), "got");
    assert.equal(await t.get(q), null);
    await first.requeue();
    const second = await t.get(q);
    assert.ok(second);
    assert.equal(second.redelivered, true);
    await second.ack();
    assert.equal(await t.get(q), null);
    await assert.rejects(t.get(h.queue("missing")), BrokerError);
  });

  test("inspectQueue() returns null for a missing queue and assertTaskQueue() is idempotent", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    assert.equal(await t.inspectQueue(q), null);
    await t.assertTaskQueue(q);
    await t.assertTaskQueue(q);
    assert.deepEqual(await t.inspectQueue(q), { messages: 0, consumers: 0 });
    assert.deepEqual(await t.inspectQueue(deadLetterQueueName(q)), { messages: 0, consumers: 0 });
    await t.deleteQueue(q);
    assert.equal(await t.inspectQueue(q), null);
    await t.deleteQueue(q);
  });

  test("assertTaskQueue() declares quorum queues and refuses a conflicting redeclaration", async (h) => {
    const t = h.transport;
    const q = h.queue("quorum");
    await t.assertTaskQueue(q, { type: "quorum", deliveryLimit: 5 });
    await t.assertTaskQueue(q, { type: "quorum", deliveryLimit: 5 });
    await assert.rejects(t.assertTaskQueue(q), (error: unknown) => {
      return error instanceof BrokerError && !error.recoverable;
    });
    await t.publish(q, bytes("still usable"));
    assert.deepEqual(await t.inspectQueue(q), { messages: 1, consumers: 0 });
  });

  test("readStream() from first reads every entry appended before it, in order, and so does every other reader", async (h) => {
    const t = h.transport;
    const s = h.queue("stream");
    await t.assertStream(s, STREAM);
    for (const body of ["e0", "e1", "e2"]) await t.publish(s, bytes(body));
    const stop = new AbortController();
    const one = streamReader(t, s, "first", stop.signal);
    const two = streamReader(await h.other(), s, "first", stop.signal);
    const all: [number, string][] = [[0, "e0"], [1, "e1"], [2, "e2"]];
    assert.deepEqual(await takeEntries(one, 3), all);
    assert.deepEqual(await takeEntries(two, 3), all);
    assert.equal(await one.next(200), null, "nothing more was appended");
    await t.publish(s, bytes("e3"));
    assert.deepEqual(await takeEntries(one, 1), [[3, "e3"]]);
    assert.deepEqual(await takeEntries(two, 1), [[3, "e3"]]);
    stop.abort();
  });

  test("readStream() since a time reads the entries appended within it, then what comes", async (h) => {
    const t = h.transport;
    const s = h.queue("stream_since");
    await t.assertStream(s, STREAM);
    for (const body of ["e0", "e1"]) await t.publish(s, bytes(body));
    const stop = new AbortController();
    const reader = streamReader(t, s, { sinceMs: 60_000 }, stop.signal);
    assert.deepEqual(await takeEntries(reader, 2), [[0, "e0"], [1, "e1"]]);
    await t.publish(s, bytes("e2"));
    assert.deepEqual(await takeEntries(reader, 1), [[2, "e2"]]);
    stop.abort();
  });

  test("readStream() from next reads only the entries appended once it is attached", async (h) => {
    const t = h.transport;
    const s = h.queue("stream");
    await t.assertStream(s, STREAM);
    for (const body of ["old0", "old1"]) await t.publish(s, bytes(body));
    const stop = new AbortController();
    const reader = streamReader(t, s, "next", stop.signal);
    reader.start();
    // RabbitMQ attaches a reader some time after its first next(): append
    // probes until one arrives; the memory broker attaches at once and reads probe0.
    let probes = 0;
    let first: StreamEntry | null | "done" = null;
    while (first === null) {
      assert.ok(probes < 30, "the reader never attached");
      await t.publish(s, bytes(`probe${probes++}`));
      first = await reader.next(100);
    }
    assert.ok(first !== "done", "the iteration ended");
    assert.match(text(first.body), /^probe\d+$/, "an entry from before it attached");
    const seen = Number(text(first.body).slice("probe".length));
    assert.equal(first.offset, 2 + seen);
    for (const body of ["new0", "new1"]) await t.publish(s, bytes(body));
    const rest: [number, string][] = [];
    for (let i = seen + 1; i < probes; i++) rest.push([2 + i, `probe${i}`]);
    rest.push([2 + probes, "new0"], [3 + probes, "new1"]);
    assert.deepEqual(await takeEntries(reader, rest.length), rest);
    assert.equal(await reader.next(200), null);
    stop.abort();
  });

  test("readStream() takes nothing away: a later reader from first reads every entry again", async (h) => {
    const t = h.transport;
    const s = h.queue("stream");
    await t.assertStream(s, STREAM);
    for (const body of ["a", "b", "c"]) await t.publish(s, bytes(body));
    const all: [number, string][] = [[0, "a"], [1, "b"], [2, "c"]];
    const stopFirst = new AbortController();
    const first = streamReader(t, s, "first", stopFirst.signal);
    assert.deepEqual(await takeEntries(first, 3), all);
    stopFirst.abort();
    assert.equal(await first.next(), "done");
    const stopAgain = new AbortController();
    const again = streamReader(t, s, "first", stopAgain.signal);
    assert.deepEqual(await takeEntries(again, 3), all);
    assert.equal(await again.next(200), null);
    stopAgain.abort();
  });

  test("readStream() ends when its signal aborts or its transport closes", async (h) => {
    const t = h.transport;
    const s = h.queue("stream");
    await t.assertStream(s, STREAM);
    await t.publish(s, bytes("only"));
    const stop = new AbortController();
    const reader = streamReader(t, s, "first", stop.signal);
    assert.deepEqual(await takeEntries(reader, 1), [[0, "only"]]);
    assert.equal(await reader.next(200), null, "waiting for a next entry");
    stop.abort();
    assert.equal(await reader.next(), "done");
    const aborted = streamReader(t, s, "first", AbortSignal.abort());
    assert.equal(await aborted.next(), "done", "a signal aborted before the start");
    const other = await h.other();
    const never = new AbortController();
    const closing = streamReader(other, s, "first", never.signal);
    assert.deepEqual(await takeEntries(closing, 1), [[0, "only"]]);
    await other.close();
    assert.equal(await closing.next(), "done");
    // The stream outlives its readers.
    await t.publish(s, bytes("after"));
    const later = new AbortController();
    const last = streamReader(t, s, "first", later.signal);
    assert.deepEqual(await takeEntries(last, 2), [[0, "only"], [1, "after"]]);
    later.abort();
  });

  test("stream entries keep their headers and content type", async (h) => {
    const t = h.transport;
    const s = h.queue("stream");
    await t.assertStream(s, STREAM);
    const headers = { task: "task_a", retries: 2, ratio: 0.5, eager: true };
    await t.publish(s, bytes(`{"n":1}`), { headers, contentType: "application/json" });
    await t.publish(s, bytes("plain"), { headers: { n: 2 }, contentType: "text/plain" });
    const stop = new AbortController();
    const reader = streamReader(t, s, "first", stop.signal);
    const first = await reader.take();
    assert.equal(text(first.body), `{"n":1}`);
    assert.deepEqual(first.props.headers, headers);
    assert.equal(first.props.contentType, "application/json");
    const second = await reader.take();
    assert.equal(text(second.body), "plain");
    assert.deepEqual(second.props.headers, { n: 2 });
    assert.equal(second.props.contentType, "text/plain");
    stop.abort();
  });

  test("assertStream() is idempotent and keeps what the stream holds", async (h) => {
    const t = h.transport;
    const s = h.queue("stream");
    await t.assertStream(s, STREAM);
    await t.publish(s, bytes("kept"));
    await t.assertStream(s, STREAM);
    await (await h.other()).assertStream(s, STREAM);
    await t.publish(s, bytes("next"));
    const stop = new AbortController();
    const reader = streamReader(t, s, "first", stop.signal);
    assert.deepEqual(await takeEntries(reader, 2), [[0, "kept"], [1, "next"]]);
    assert.equal(await reader.next(200), null);
    stop.abort();
  });

  test("consume() of a missing queue ends the iteration with a BrokerError", async (h) => {
    const stop = new AbortController();
    const iterator = h.transport.consume(h.queue("missing"), { prefetch: 1, signal: stop.signal })[
      Symbol.asyncIterator
    ]();
    await assert.rejects(iterator.next(), BrokerError);
    stop.abort();
  });

  test("deleting a consumed queue ends the iteration with a BrokerError", async (h) => {
    const t = h.transport;
    const q = h.queue("a");
    await t.assertQueue(q);
    const stop = new AbortController();
    const iterator = t.consume(q, { prefetch: 1, signal: stop.signal })[Symbol.asyncIterator]();
    const ended = assert.rejects(iterator.next(), BrokerError);
    await waitForConsumers(t, q, 1);
    await h.transport.deleteQueue(q);
    await ended;
    stop.abort();
  });
}

async function waitForConsumers(
  transport: Transport,
  queue: string,
  consumers: number,
): Promise<void> {
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    if ((await transport.inspectQueue(queue))?.consumers === consumers) return;
    await sleep(20);
  }
  assert.fail(`queue "${queue}" never had ${consumers} consumers`);
}
