/**
 * Small shared pieces of the integration tests: temp folders and config
 * files, spawned workers, polling, reading dead letters.
 * @module
 */
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import type { Delivery, Transport } from "../../src/transport/transport.ts";
import { CliProcess } from "./run_cli.ts";

/** Folder of the fixture plugins, for `--plugins`. */
export const FIXTURE_PLUGINS = {
  good: new URL("../fixtures/plugins/good", import.meta.url).pathname,
  reliability: new URL("../fixtures/plugins/reliability", import.meta.url).pathname,
  hostile: new URL("../fixtures/plugins/hostile", import.meta.url).pathname,
  workflow: new URL("../fixtures/plugins/workflow", import.meta.url).pathname,
};

/** A TCP port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A temp folder for a test's config and results; removed with its contents on dispose. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "dts_test_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** Write a YAML config (a `name:` line is added) to a temp file; removed on dispose. */
export async function tempConfig(yaml: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempFile({ prefix: "dts_rel_", suffix: ".yml" });
  await Deno.writeTextFile(path, `name: reliability test\n${yaml}`);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path).catch(() => {}) };
}

/** Spawn `dts worker` and wait until it consumes. */
export async function spawnWorker(
  args: readonly string[],
  options: { brokerUrl: string; env?: Record<string, string> },
): Promise<CliProcess> {
  const worker = new CliProcess(["worker", "--log-format", "json", ...args], {
    env: { DTS_BROKER_URL: options.brokerUrl, ...options.env },
  });
  await worker.waitFor(/"Worker started"/, 30_000);
  return worker;
}

/** Poll until `check` holds. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  withinMs = 15_000,
): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Take every message of a queue (acknowledging it), to assert what it held. */
export async function drainQueue(transport: Transport, queue: string): Promise<Delivery[]> {
  const taken: Delivery[] = [];
  for (let d = await transport.get(queue); d !== null; d = await transport.get(queue)) {
    await d.ack();
    taken.push(d);
  }
  return taken;
}

/** Open a transport that reconnects fast, for fault-injection tests. */
export function fastReconnect(url: string, name?: string): Promise<AmqpTransport> {
  return AmqpTransport.connect(url, {
    reconnectMinMs: 50,
    reconnectMaxMs: 500,
    connectionName: name,
  });
}
