/**
 * The RabbitMQ that broker tests run against, and per-test queue names.
 * Order: `DTS_TEST_BROKER_URL`, else a broker on 127.0.0.1:5672, else a
 * testcontainers RabbitMQ when a Docker socket exists, else an error that
 * says how to get one. Tests never skip for want of a broker.
 * @module
 */

import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { delayLevels, levelName } from "../../src/transport/amqp/delay_levels.ts";
import { deadLetterQueueName, type Transport } from "../../src/transport/transport.ts";

const LOCAL_URL = "amqp://guest:guest@127.0.0.1:5672/";
const DOCKER_SOCKET = "/var/run/docker.sock";

/** A broker for one test (or file); dispose it to stop a container it started. */
export async function testBroker(): Promise<{ url: string } & AsyncDisposable> {
  const fromEnv = Deno.env.get("DTS_TEST_BROKER_URL");
  if (fromEnv) return { url: fromEnv, [Symbol.asyncDispose]: () => Promise.resolve() };
  if (await canConnect("127.0.0.1", 5672)) {
    return { url: LOCAL_URL, [Symbol.asyncDispose]: () => Promise.resolve() };
  }
  if (await exists(DOCKER_SOCKET)) return await startContainer();
  throw new Error(NO_BROKER_MESSAGE);
}

/** What a test run says when it finds no broker: how to get one that exists on this machine. */
export const NO_BROKER_MESSAGE: string =
  "Cannot find a RabbitMQ broker for tests: nothing answers on 127.0.0.1:5672, " +
  "DTS_TEST_BROKER_URL is not set and there is no Docker socket. Start the local one with " +
  "`rabbitmq-server -detached`, or set DTS_TEST_BROKER_URL=amqp://user:pass@host:5672/";

/** Unique names for one test: `t_<uuid8>_<name>`. */
export function testNamespace(): { prefix: string; queue(name: string): string } {
  const prefix = `t_${crypto.randomUUID().slice(0, 8)}`;
  return { prefix, queue: (name: string): string => `${prefix}_${name}` };
}

/**
 * Delete test queues with their `<queue>.dead`. (The delay ladder,
 * `dts.delay.*`, is shared by every queue and stays; a delayed message for a
 * deleted queue ends in `dts.delay.lost`.)
 */
export async function deleteQueues(url: string, names: readonly string[]): Promise<void> {
  const transport = await AmqpTransport.connect(url);
  try {
    for (const name of names) {
      await transport.deleteQueue(name);
      await transport.deleteQueue(deadLetterQueueName(name));
    }
  } finally {
    await transport.close();
  }
}

/**
 * How many messages wait in the shared delay ladder (`dts.delay.*`) now.
 * Other tests' delays may still be waiting out: assert "at least", not "exactly".
 */
export async function messagesInDelayLadder(transport: Transport): Promise<number> {
  const infos = await Promise.all(delayLevels().map((l) => transport.inspectQueue(levelName(l))));
  return infos.reduce((sum, info) => sum + (info?.messages ?? 0), 0);
}

async function canConnect(hostname: string, port: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname, port });
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), 1000);
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    if (conn === null) {
      connecting.then((late) => late.close(), () => {});
      return false;
    }
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function startContainer(): Promise<{ url: string } & AsyncDisposable> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer("rabbitmq:3-management")
    .withExposedPorts(5672)
    .withWaitStrategy(Wait.forLogMessage("Server startup complete"))
    .start();
  const url = `amqp://guest:guest@${container.getHost()}:${container.getMappedPort(5672)}/`;
  return {
    url,
    async [Symbol.asyncDispose](): Promise<void> {
      await container.stop();
    },
  };
}
