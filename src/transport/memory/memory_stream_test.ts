import assert from "node:assert/strict";
import { ManualClock } from "../../../tests/helpers/manual_clock.ts";
import { BrokerError, UnroutableError } from "../../errors.ts";
import { MemoryBroker, type MemoryQueueOptions } from "./memory_broker.ts";
import { PLAIN_QUEUE_OPTIONS } from "./memory_queue.ts";
import {
  DEFAULT_STREAM_MAX_BYTES,
  MemoryStream,
  memoryStreamOptions,
  type MemoryStreamReader,
} from "./memory_stream.ts";
import { MemoryTransport } from "./memory_transport.ts";

const QUEUE: MemoryQueueOptions = PLAIN_QUEUE_OPTIONS;
const STREAM = { maxAgeMs: 60_000, maxBytes: DEFAULT_STREAM_MAX_BYTES };
const body = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const props = { headers: {} };

/** Every entry a fresh `first` reader gets now, as `[offset, body]` pairs. */
function contents(stream: MemoryStream): [number, string][] {
  const entries: [number, string][] = [];
  for (let offset = 0;;) {
    const entry = stream.entryFrom(offset);
    if (entry === null) return entries;
    entries.push([entry.offset, text(entry.body)]);
    offset = entry.offset + 1;
  }
}

/** The next entry of `reader` as `[offset, body]`, or "done". */
async function read(reader: MemoryStreamReader): Promise<[number, string] | "done"> {
  const result = await reader.next();
  return result.done ? "done" : [result.value.offset, text(result.value.body)];
}

Deno.test("MemoryStream drops entries older than maxAgeMs, on append and on read", () => {
  const clock = new ManualClock();
  const stream = new MemoryStream("s", { ...STREAM, maxAgeMs: 100 }, clock);
  stream.append(body("e0"), props);
  clock.tick(50);
  stream.append(body("e1"), props);
  clock.tick(50);
  assert.deepEqual(contents(stream), [[0, "e0"], [1, "e1"]], "exactly maxAgeMs old is kept");
  clock.tick(1);
  assert.equal(stream.length, 1);
  assert.deepEqual(contents(stream), [[1, "e1"]]);
  clock.tick(100);
  stream.append(body("e2"), props);
  assert.deepEqual(contents(stream), [[2, "e2"]], "offsets go on after trimming");
  clock.tick(101);
  assert.equal(stream.length, 0);
  assert.equal(stream.entryFrom(0), null);
  stream.append(body("e3"), props);
  assert.deepEqual(contents(stream), [[3, "e3"]]);
});

Deno.test("MemoryStream drops its oldest entries while over maxBytes, but keeps the newest", () => {
  const stream = new MemoryStream("s", { ...STREAM, maxBytes: 10 }, new ManualClock());
  for (const text of ["aaaa", "bbbb"]) stream.append(body(text), props);
  assert.deepEqual(contents(stream), [[0, "aaaa"], [1, "bbbb"]]);
  stream.append(body("cc"), props);
  assert.deepEqual(contents(stream), [[0, "aaaa"], [1, "bbbb"], [2, "cc"]], "10 bytes: not over");
  stream.append(body("d"), props);
  assert.deepEqual(contents(stream), [[1, "bbbb"], [2, "cc"], [3, "d"]]);
  stream.append(body("e".repeat(11)), props);
  assert.deepEqual(contents(stream), [[4, "e".repeat(11)]], "alone over the bound, still kept");
  stream.append(body("f"), props);
  assert.deepEqual(contents(stream), [[5, "f"]]);
});

Deno.test("MemoryStream readers read from where they attached, wait for new entries, and skip what was trimmed", async () => {
  const clock = new ManualClock();
  const stream = new MemoryStream("s", { ...STREAM, maxAgeMs: 100 }, clock);
  stream.append(body("e0"), props);
  const first = stream.attach("first");
  const next = stream.attach("next");
  assert.equal(stream.readers, 2);
  assert.deepEqual(await read(first), [0, "e0"]);
  // Two next() calls wait in order; an append wakes the first, the second waits on.
  const waiting = [next.next(), next.next()];
  stream.append(body("e1"), props);
  const woken = await waiting[0];
  assert.equal(woken.done ? "done" : text(woken.value.body), "e1");
  assert.deepEqual(await read(first), [1, "e1"]);
  clock.tick(50);
  stream.append(body("e2"), props);
  const second = await waiting[1];
  assert.equal(second.done ? "done" : second.value.offset, 2);
  // The first reader falls behind; e2 and e3 age out before it reads them.
  stream.append(body("e3"), props);
  clock.tick(200);
  stream.append(body("e4"), props);
  assert.deepEqual(await read(first), [4, "e4"]);
  first.end();
  assert.equal(await read(first), "done");
  assert.equal(stream.readers, 1);
  assert.deepEqual(await read(next), [4, "e4"]);
  const ended = next.next();
  stream.end(new BrokerError("gone", { recoverable: false }));
  await assert.rejects(ended, BrokerError);
  assert.equal(await read(next), "done");
  assert.equal(stream.readers, 0);
});

Deno.test("MemoryStream gives each reader its own copy of an entry", async () => {
  const stream = new MemoryStream("s", STREAM, new ManualClock());
  stream.append(body("same"), { headers: { n: 1 } });
  const one = await stream.attach("first").next();
  assert.ok(!one.done);
  one.value.body[0] = 0;
  one.value.props.headers.n = 2;
  const two = await stream.attach("first").next();
  assert.ok(!two.done);
  assert.equal(text(two.value.body), "same");
  assert.deepEqual(two.value.props.headers, { n: 1 });
});

Deno.test("memoryStreamOptions() fills in the size and refuses no age or size", () => {
  assert.deepEqual(memoryStreamOptions("s", { maxAgeMs: 5 }), {
    maxAgeMs: 5,
    maxBytes: 50_000_000,
  });
  assert.throws(() => memoryStreamOptions("s", { maxAgeMs: 0 }), RangeError);
  assert.throws(() => memoryStreamOptions("s", { maxAgeMs: Number.NaN }), RangeError);
  assert.throws(() => memoryStreamOptions("s", { maxAgeMs: 5, maxBytes: -1 }), /maxBytes/);
});

Deno.test("MemoryBroker refuses a stream named as a queue, a queue named as a stream, and other stream options", () => {
  using broker = new MemoryBroker();
  broker.assertQueue("q", QUEUE);
  broker.assertStream("s", STREAM);
  broker.assertStream("s", STREAM);
  const refused = (pattern: RegExp) => (error: unknown): boolean =>
    error instanceof BrokerError && !error.recoverable && pattern.test(error.message);
  assert.throws(
    () => broker.assertStream("q", STREAM),
    refused(/Cannot declare stream "q": queue "q" exists/),
  );
  assert.throws(
    () => broker.assertQueue("s", QUEUE),
    refused(/Cannot declare queue "s": stream "s" exists/),
  );
  assert.throws(() => broker.assertStream("s", { ...STREAM, maxAgeMs: 1 }), refused(/options/));
});

Deno.test("MemoryBroker routes publishes to a stream, counts its entries and readers, and deletes it", async () => {
  const clock = new ManualClock();
  using broker = new MemoryBroker({ clock });
  broker.assertStream("s", { ...STREAM, maxAgeMs: 1000 });
  broker.assertExchange("fan", "fanout", true);
  broker.bindQueue("s", "fan", "");
  broker.publish("", "s", body("direct"), props);
  broker.publish("fan", "any", body("fanned"), props);
  broker.publish("", "s", body("delayed"), props, 500);
  assert.deepEqual(broker.inspectQueue("s"), { messages: 2, consumers: 0 });
  clock.tick(500);
  await Promise.resolve();
  assert.deepEqual(broker.inspectQueue("s"), { messages: 3, consumers: 0 });
  const reader = broker.readStream("s", "first");
  assert.deepEqual(broker.inspectQueue("s"), { messages: 3, consumers: 1 });
  assert.deepEqual([await read(reader), await read(reader), await read(reader)], [
    [0, "direct"],
    [1, "fanned"],
    [2, "delayed"],
  ]);
  clock.tick(1000);
  assert.deepEqual(broker.inspectQueue("s"), { messages: 1, consumers: 1 }, "by age");
  assert.throws(() => broker.purgeQueue("s"), /it is a stream/);
  assert.throws(() => broker.readStream("missing", "first"), /no such stream/);
  const waiting = reader.next();
  broker.deleteQueue("s");
  await assert.rejects(waiting, /the stream was deleted/);
  assert.equal(broker.inspectQueue("s"), null);
  assert.throws(() => broker.publish("", "s", body("late"), props), UnroutableError);
  assert.throws(() => broker.publish("fan", "any", body("late"), props), UnroutableError);
  broker.assertQueue("s", QUEUE);
  assert.throws(() => broker.readStream("s", "first"), /it is a queue/);
});

Deno.test("MemoryBroker.close() ends its stream readers with a BrokerError", async () => {
  const broker = new MemoryBroker();
  broker.assertStream("s", STREAM);
  const waiting = broker.readStream("s", "next").next();
  broker.close();
  await assert.rejects(waiting, (error: unknown) => {
    return error instanceof BrokerError && /the memory broker closed/.test(error.message);
  });
});

Deno.test("MemoryTransport.readStream() attaches on the first next(), at once", async () => {
  using broker = new MemoryBroker();
  await using transport = new MemoryTransport(broker);
  await transport.assertStream("s", STREAM);
  const iterator = transport.readStream("s", { from: "next" })[Symbol.asyncIterator]();
  await transport.publish("s", body("before"));
  assert.equal(broker.inspectQueue("s")?.consumers, 0, "not attached before next()");
  const pending = iterator.next();
  assert.equal(broker.inspectQueue("s")?.consumers, 1);
  await transport.publish("s", body("after"));
  const result = await pending;
  assert.ok(!result.done);
  assert.deepEqual([result.value.offset, text(result.value.body)], [1, "after"]);
  await iterator.return?.();
  assert.equal(broker.inspectQueue("s")?.consumers, 0, "return() detaches");
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("MemoryTransport.readStream() of a missing stream or a queue fails its first next()", async () => {
  using broker = new MemoryBroker();
  await using transport = new MemoryTransport(broker);
  await transport.assertQueue("q");
  for (const name of ["missing", "q"]) {
    const iterator = transport.readStream(name, { from: "first" })[Symbol.asyncIterator]();
    await assert.rejects(iterator.next(), BrokerError);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  }
  await assert.rejects(transport.assertStream("q", STREAM), /queue "q" exists/);
  await assert.rejects(transport.assertStream("s", { maxAgeMs: -1 }), RangeError);
});

Deno.test("MemoryTransport.close() ends its stream readers and detaches them", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  await transport.assertStream("s", STREAM);
  const stop = new AbortController();
  const iterator = transport.readStream("s", { from: "first", signal: stop.signal })[
    Symbol.asyncIterator
  ]();
  const waiting = iterator.next();
  assert.equal(broker.inspectQueue("s")?.consumers, 1);
  await transport.close();
  assert.deepEqual(await waiting, { done: true, value: undefined });
  assert.equal(broker.inspectQueue("s")?.consumers, 0);
  stop.abort();
});

Deno.test("MemoryStream: a reader since a time skips what was appended before it", async () => {
  const clock = new ManualClock();
  const stream = new MemoryStream("s", STREAM, clock);
  stream.append(body("old"), props);
  clock.tick(1000);
  stream.append(body("recent"), props);
  clock.tick(500);
  const since = stream.attach({ sinceMs: 800 });
  assert.deepEqual(await read(since), [1, "recent"]);
  const none = stream.attach({ sinceMs: 100 });
  stream.append(body("new"), props);
  assert.deepEqual(await read(none), [2, "new"], "nothing that recent: it waits for the next one");
  since.return();
  none.return();
});
