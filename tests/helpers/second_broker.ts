/**
 * A second, private RabbitMQ node on this machine, for tests that restart a
 * broker: the shared one on 5672 is never touched. Needs `rabbitmq-server`
 * and `rabbitmqctl` on PATH (the same install the shared broker runs from);
 * the node has its own name, ports, data and log folders, and no plugins.
 * @module
 */

/** A private RabbitMQ node; dispose it to stop the node and delete its data. */
export interface SecondBroker extends AsyncDisposable {
  /** `amqp://guest:guest@127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  readonly nodeName: string;
  /** The node's main log, for a test to quote when something went missing. */
  readonly logFile: string;
  /** Stop the RabbitMQ application: every connection drops, the node stays up. */
  stopApp(): Promise<void>;
  /** Start it again; resolves once it accepts AMQP connections. */
  startApp(): Promise<void>;
  /** Leave its own data behind and join the cluster of node `nodeName`. */
  joinCluster(nodeName: string): Promise<void>;
  /** Run `rabbitmqctl -n <this node> ...args`; resolves to its stdout. */
  ctl(...args: string[]): Promise<string>;
  /** SIGKILL the node's Erlang VM: no clean shutdown, nothing flushed that was not already on disk. */
  kill(): Promise<void>;
  /** Start the node again on the same data after `kill()`; resolves once it accepts AMQP connections. */
  restart(): Promise<void>;
}

/** Options of `startSecondBroker()`. */
export interface SecondBrokerOptions {
  /** The AMQP port. @default a free one */
  port?: number;
  /** More `rabbitmq.conf` lines, e.g. `max_message_size = 1048576`. */
  conf?: readonly string[];
  /**
   * An `advanced.config` (Erlang terms), for settings rabbitmq.conf has no key for.
   * @default RECOMMENDED_ADVANCED_CONFIG
   */
  advancedConfig?: string;
}

/**
 * What README and docs/SCALING.md tell operators to set on every node: a
 * dead-letter hop of the delay ladder (at-least-once) that found no route or
 * no confirm is sent again after this long. RabbitMQ's default, 180 s, holds
 * every retry waiting in that level for 3 minutes: after a cluster node dies,
 * and after a single node restarts (its quorum queues can start handing
 * messages on before the exchanges they hand them to are recovered).
 */
export const RECOMMENDED_ADVANCED_CONFIG =
  "[{rabbit, [{dead_letter_worker_publisher_confirm_timeout, 5000}]}].\n";

/** Start a private node; resolves once it accepts AMQP connections (a few seconds). */
export async function startSecondBroker(options: SecondBrokerOptions = {}): Promise<SecondBroker> {
  const [port, distPort] = [options.port ?? freePort(), freePort()];
  const nodeName = `dts_${crypto.randomUUID().slice(0, 8)}@localhost`;
  const dir = await Deno.makeTempDir({ prefix: "dts_rabbit_" });
  // The server drops to the rabbitmq user when started as root.
  await Deno.chmod(dir, 0o777);
  await Deno.writeTextFile(
    `${dir}/rabbitmq.conf`,
    [`listeners.tcp.local = 127.0.0.1:${port}`, ...(options.conf ?? [])].join("\n") + "\n",
  );
  await Deno.writeTextFile(`${dir}/enabled_plugins`, "[].\n");
  await Deno.writeTextFile(
    `${dir}/advanced.config`,
    options.advancedConfig ?? RECOMMENDED_ADVANCED_CONFIG,
  );
  const env = {
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
    RABBITMQ_LOG_BASE: `${dir}/log`,
    RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq.conf`,
    RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
    RABBITMQ_ADVANCED_CONFIG_FILE: `${dir}/advanced.config`,
    RABBITMQ_PID_FILE: `${dir}/node.pid`,
  };
  const ctl = (...args: string[]) => run("rabbitmqctl", ["-n", nodeName, ...args]);
  const boot = async (): Promise<void> => {
    await run("rabbitmq-server", ["-detached"], env);
    // -detached returns before the node registers with epmd: poll.
    await until(
      60_000,
      () => ctl("await_startup", "--timeout", "60").then(() => true, () => false),
    );
    await until(30_000, () => canConnect(port), 10);
  };
  const stop = async (): Promise<void> => {
    await ctl("stop").catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await boot();
  } catch (error) {
    await stop();
    throw new Error(`Cannot start a second RabbitMQ node "${nodeName}" (logs in ${dir}/log)`, {
      cause: error,
    });
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    port,
    nodeName,
    logFile: `${dir}/log/${nodeName}.log`,
    ctl,
    stopApp: async () => {
      await ctl("stop_app");
    },
    startApp: async () => {
      await ctl("start_app");
      await until(30_000, () => canConnect(port), 10);
    },
    joinCluster: async (nodeName: string) => {
      await ctl("stop_app");
      await ctl("reset");
      await ctl("join_cluster", nodeName);
      await ctl("start_app");
      await until(30_000, () => canConnect(port), 10);
    },
    kill: async () => {
      const pid = Number((await Deno.readTextFile(`${dir}/node.pid`)).trim());
      Deno.kill(pid, "SIGKILL");
      await until(30_000, async () => !(await canConnect(port)), 10);
      // epmd forgets the node once its VM is gone; wait so a restart can register again.
      await until(30_000, () => ctl("status").then(() => false, () => true));
    },
    restart: boot,
    [Symbol.asyncDispose]: stop,
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const output = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout);
}

async function until(
  withinMs: number,
  check: () => Promise<boolean>,
  everyMs = 250,
): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
