import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { testTransport } from "./transport_contract.ts";

testTransport("AmqpTransport", async () => {
  const broker = await testBroker();
  const transport = await AmqpTransport.connect(broker.url);
  const others: Transport[] = [];
  const names = testNamespace();
  const queues: string[] = [];
  return {
    transport,
    async other(): Promise<Transport> {
      const other = await AmqpTransport.connect(broker.url);
      others.push(other);
      return other;
    },
    queue(name: string): string {
      const queue = names.queue(name);
      queues.push(queue);
      return queue;
    },
    track(queue: string): void {
      queues.push(queue);
    },
    async [Symbol.asyncDispose](): Promise<void> {
      for (const other of others) await other.close();
      await transport.close();
      await deleteQueues(broker.url, queues);
      await broker[Symbol.asyncDispose]();
    },
  };
});
