import { MemoryBroker } from "../../src/transport/memory/memory_broker.ts";
import { MemoryTransport } from "../../src/transport/memory/memory_transport.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { testNamespace } from "../helpers/broker.ts";
import { testTransport } from "./transport_contract.ts";

testTransport("MemoryTransport", () => {
  const broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const others: Transport[] = [];
  const names = testNamespace();
  return Promise.resolve({
    transport,
    other(): Promise<Transport> {
      const other = new MemoryTransport(broker);
      others.push(other);
      return Promise.resolve(other);
    },
    queue: names.queue,
    track(): void {},
    async [Symbol.asyncDispose](): Promise<void> {
      for (const other of others) await other.close();
      await transport.close();
      broker.close();
    },
  });
});
