/**
 * Failure paths of `AmqpTransport` against a real RabbitMQ. Dropping a
 * connection uses `rabbitmqctl`, so these need a broker on this machine.
 * @module
 */

import assert from "node:assert/strict";
import { BrokerError, BrokerUnreachableError } from "../../src/errors.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import type { Delivery, TransportStatus } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (body: Uint8Array): string => new TextDecoder().decode(body);

async function rabbitmqctl(...args: string[]): Promise<string> {
  const output = await new Deno.Command("rabbitmqctl", { args, stdout: "piped", stderr: "piped" })
    .output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `rabbitmqctl ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return stdout;
}

/** Close exactly our connection, found by its `connection_name` client property. */
async function closeConnectionNamed(name: string): Promise<void> {
  const listing = await rabbitmqctl(
    "list_connections",
    "-q",
    "--no-table-headers",
    "pid",
    "client_properties",
  );
  const line = listing.split("\n").find((l) => l.includes(`{"connection_name","${name}"}`));
  assert.ok(line, `no connection named ${name} in:\n${listing}`);
  const pid = line.split("\t")[0];
  await rabbitmqctl("close_connection", pid, "dts reconnect test");
}

async function waitFor(what: string, check: () => boolean, withinMs = 10_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("AmqpTransport reconnects after the broker drops it; consumers resume and nothing is lost", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("a");
  const transport = await AmqpTransport.connect(broker.url, { reconnectMinMs: 50 });
  const statuses: TransportStatus[] = [];
  transport.onStatus((status) => statuses.push(status));
  try {
    await transport.assertTaskQueue(q);
    for (let i = 0; i < 10; i++) await transport.publish(q, bytes(`m${i}`), { persistent: true });
    const seen = new Map<string, Delivery>();
    const stop = new AbortController();
    const iterator = transport.consume(q, { prefetch: 3, signal: stop.signal })
      [Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Delivery;
    const second = (await iterator.next()).value as Delivery;
    const held = (await iterator.next()).value as Delivery;
    await first.ack();
    await second.ack();
    assert.deepEqual([first, second, held].map((d) => text(d.body)), ["m0", "m1", "m2"]);

    await closeConnectionNamed(transport.connectionName);
    const during = transport.publish(q, bytes("during"), { persistent: true });
    await waitFor("reconnect", () => statuses.some((s) => s.type === "connected"));
    assert.deepEqual(statuses.map((s) => s.type).filter((t) => t !== "reconnecting"), [
      "disconnected",
      "connected",
    ]);
    assert.ok(statuses.some((s) => s.type === "reconnecting"));
    assert.equal(transport.connected, true);
    await assert.rejects(held.ack(), (e: unknown) => e instanceof BrokerError && e.recoverable);
    await during;
    await transport.publish(q, bytes("after"), { persistent: true });

    const expected = ["m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "during", "after"];
    while (!expected.every((body) => seen.has(body))) {
      const result = await Promise.race([
        iterator.next(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000)),
      ]);
      assert.ok(result && !result.done, `missing: ${expected.filter((b) => !seen.has(b))}`);
      seen.set(text(result.value.body), result.value);
      await result.value.ack();
    }
    assert.equal(seen.get("m2")?.redelivered, true);
    stop.abort();
    // The consumer's cancel reaches the broker asynchronously: wait for it.
    let info = await transport.inspectQueue(q);
    for (let i = 0; i < 50 && info?.consumers !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      info = await transport.inspectQueue(q);
    }
    assert.deepEqual(info, { messages: 0, consumers: 0 });
  } finally {
    await transport.close();
    await deleteQueues(broker.url, [q]);
  }
  assert.equal(statuses.at(-1)?.type, "closed");
});

Deno.test("AmqpTransport resumes a consumer with the prefetch set while it was disconnected", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("a");
  // A slow first reconnect: the prefetch changes while nothing is connected.
  const transport = await AmqpTransport.connect(broker.url, { reconnectMinMs: 1500 });
  const statuses: TransportStatus[] = [];
  transport.onStatus((status) => statuses.push(status));
  try {
    await transport.assertTaskQueue(q);
    for (let i = 0; i < 6; i++) await transport.publish(q, bytes(`m${i}`), { persistent: true });
    const stop = new AbortController();
    const consumer = transport.consume(q, { prefetch: 1, signal: stop.signal });
    const iterator = consumer[Symbol.asyncIterator]();
    assert.equal(text(((await iterator.next()).value as Delivery).body), "m0");

    await closeConnectionNamed(transport.connectionName);
    await waitFor("the drop", () => statuses.some((s) => s.type === "disconnected"));
    await consumer.setPrefetch(3);
    assert.equal(transport.connected, false, "changed while disconnected");
    await waitFor("reconnect", () => statuses.some((s) => s.type === "connected"));

    const after: Delivery[] = [];
    for (let i = 0; i < 3; i++) after.push((await iterator.next()).value as Delivery);
    assert.deepEqual(after.map((d) => text(d.body)), ["m0", "m1", "m2"]);
    assert.equal(after[0].redelivered, true);
    const fourth = await Promise.race([
      iterator.next().then(() => "delivered"),
      new Promise((resolve) => setTimeout(() => resolve("none"), 500)),
    ]);
    assert.equal(fourth, "none", "prefetch 3 on the new connection");
    for (const delivery of after) await delivery.ack();
    stop.abort();
  } finally {
    await transport.close();
    await deleteQueues(broker.url, [q]);
  }
});

Deno.test("AmqpTransport.connect() fails fast with BrokerUnreachableError and a masked password", async () => {
  const started = performance.now();
  await assert.rejects(
    AmqpTransport.connect("amqp://guest:s3cret@127.0.0.1:5999/"),
    (error: unknown) => {
      assert.ok(error instanceof BrokerUnreachableError);
      assert.equal(error.exitCode, 3);
      assert.match(
        error.message,
        /^Cannot connect to broker "amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5999\/": /,
      );
      assert.match(error.message, /: nothing listens on 127\.0\.0\.1:5999 \(connection refused\)$/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
  assert.ok(performance.now() - started < 5000);
});

Deno.test("AmqpTransport.connect() gives up after connectTimeoutMs when nothing answers", async () => {
  // A listener that accepts and never speaks AMQP: the handshake cannot finish.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const started = performance.now();
  try {
    await assert.rejects(
      AmqpTransport.connect(`amqp://guest:guest@127.0.0.1:${listener.addr.port}/`, {
        connectTimeoutMs: 300,
      }),
      BrokerUnreachableError,
    );
    assert.ok(performance.now() - started < 3000);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of accepted) {
      try {
        conn.close();
      } catch {
        // already closed by the client
      }
    }
  }
});
