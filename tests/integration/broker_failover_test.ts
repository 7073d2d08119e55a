/**
 * A broker setting that lists several nodes: the transport connects to the
 * first that answers, and after losing its node moves on to the next. Real
 * RabbitMQ nodes: the shared broker and a private one that gets `kill -9`.
 * (The same on a 3-node cluster with quorum queues: `tests/fleet/`.)
 * @module
 */

import assert from "node:assert/strict";
import { BrokerUnreachableError } from "../../src/errors.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import type { TransportStatus } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";

/** A port on which nothing listens. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitFor(what: string, check: () => boolean, withinMs = 15_000): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > withinMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

Deno.test("Failover list: a node that is down is skipped; the next one is used", async () => {
  await using broker = await testBroker();
  const down = `amqp://guest:guest@127.0.0.1:${closedPort()}/`;
  const transport = await AmqpTransport.connect(`${down};${broker.url}`, {
    connectTimeoutMs: 2000,
  });
  try {
    assert.equal(transport.connected, true);
    assert.equal(transport.node, broker.url.replace(/:guest@/, ":***@"));
    assert.match(transport.url, /:\*\*\*@127\.0\.0\.1:\d+\/;amqp:\/\/guest:\*\*\*@/);
  } finally {
    await transport.close();
  }
});

Deno.test("Failover list: when every node is down the error names each one and why", async () => {
  const [a, b] = [closedPort(), closedPort()];
  const spec = `amqp://guest:s3cret@127.0.0.1:${a}/, amqp://guest:s3cret@127.0.0.1:${b}/`;
  await assert.rejects(AmqpTransport.connect(spec), (error: unknown) => {
    assert.ok(error instanceof BrokerUnreachableError);
    assert.equal(error.exitCode, 3);
    assert.ok(!error.message.includes("s3cret"), error.message);
    assert.match(
      error.message,
      new RegExp(`127\\.0\\.0\\.1:${a}/: nothing listens on 127\\.0\\.0\\.1:${a}`),
    );
    assert.match(
      error.message,
      new RegExp(`127\\.0\\.0\\.1:${b}/: nothing listens on 127\\.0\\.0\\.1:${b}`),
    );
    return true;
  });
});

Deno.test("Failover list: a node killed with -9 is left for the next; work goes on there", async () => {
  await using shared = await testBroker();
  await using doomed = await startSecondBroker();
  const q = testNamespace().queue("failover");
  const logs: string[] = [];
  const transport = await AmqpTransport.connect(`${doomed.url};${shared.url}`, {
    reconnectMinMs: 50,
    onLog: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields)}`),
  });
  const statuses: TransportStatus[] = [];
  transport.onStatus((status) => statuses.push(status));
  try {
    assert.equal(transport.node, doomed.url.replace(/:guest@/, ":***@"));
    await transport.assertTaskQueue(q);
    await doomed.kill();
    const movedInMs = await waitFor(
      "the move to the next node",
      () => statuses.some((s) => s.type === "connected"),
    );
    assert.equal(transport.node, shared.url.replace(/:guest@/, ":***@"));
    // The declarations were replayed on the new node: the queue is there and usable.
    await transport.publish(q, new TextEncoder().encode("after"), { persistent: true });
    const got = await transport.get(q);
    assert.equal(new TextDecoder().decode(got?.body), "after");
    await got?.ack();
    assert.ok(
      logs.some((l) =>
        l.includes("broker connection restored") && l.includes(`${shared.url.split("@")[1]}`)
      ),
      logs.join("\n"),
    );
    console.log(`moved to the next node ${Math.round(movedInMs)} ms after the kill`);
  } finally {
    await transport.close();
    await deleteQueues(shared.url, [q]);
  }
});
