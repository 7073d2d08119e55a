/**
 * A delayed message whose task queue is deleted while it waits is kept in
 * the quorum queue `dts.delay.lost`, not dropped.
 * @module
 */
import assert from "node:assert/strict";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { DELAY_LOST_QUEUE } from "../../src/transport/amqp/delay_levels.ts";
import type { Delivery } from "../../src/transport/transport.ts";
import { testBroker, testNamespace } from "../helpers/broker.ts";

Deno.test("A delay for a deleted task queue ends in dts.delay.lost, a quorum queue", async () => {
  await using broker = await testBroker();
  const q = testNamespace().queue("lost_delay");
  const marker = `lost ${crypto.randomUUID()}`;
  const transport = await AmqpTransport.connect(broker.url);
  try {
    await transport.assertTaskQueue(q);
    await transport.publish(q, new TextEncoder().encode(marker), { delayMs: 300 });
    await transport.deleteQueue(q);
    let found: Delivery | null = null;
    const others: Delivery[] = [];
    for (let tries = 0; found === null && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let d = await transport.get(DELAY_LOST_QUEUE); d !== null && found === null;) {
        if (new TextDecoder().decode(d.body) === marker) found = d;
        else others.push(d);
        d = found === null ? await transport.get(DELAY_LOST_QUEUE) : null;
      }
    }
    // Other tests' lost delays stay where they were.
    for (const other of others) await other.requeue();
    assert.ok(found, `the delayed message never reached ${DELAY_LOST_QUEUE}`);
    await found.ack();
    const listing = new TextDecoder().decode(
      (await new Deno.Command("rabbitmqctl", {
        args: ["list_queues", "-q", "--no-table-headers", "name", "type"],
        stdout: "piped",
        stderr: "null",
      }).output()).stdout,
    );
    assert.match(listing, new RegExp(`^${DELAY_LOST_QUEUE.replaceAll(".", "\\.")}\\tquorum$`, "m"));
  } finally {
    await transport.close();
  }
});
