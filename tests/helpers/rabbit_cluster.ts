/**
 * A private 3-node RabbitMQ cluster on this machine (own node names, ports
 * and data folders; `rabbitmqctl join_cluster`), for tests that kill nodes.
 * The shared broker on 5672 is never touched.
 * @module
 */
import {
  RECOMMENDED_ADVANCED_CONFIG,
  type SecondBroker,
  startSecondBroker,
} from "./second_broker.ts";

/** The nodes of a private cluster; dispose it to stop them all and delete their data. */
export interface RabbitCluster extends AsyncDisposable {
  readonly nodes: readonly SecondBroker[];
  /** Every node's URL, `;`-separated: a broker setting that fails over. */
  readonly url: string;
  /** The index of the node that leads quorum queue `queue`, or -1 when none does. */
  leaderOf(queue: string): Promise<number>;
  /** The index of the node that holds the connection named `connectionName`, or -1. */
  nodeOfConnection(connectionName: string): Promise<number>;
}

/** Start `size` nodes and join them into one cluster; a few seconds per node. */
export async function startCluster(
  size = 3,
  options: { advancedConfig?: string } = {},
): Promise<RabbitCluster> {
  const advancedConfig = options.advancedConfig ?? RECOMMENDED_ADVANCED_CONFIG;
  // Booting is the slow part and runs in parallel; joins go one at a time.
  const started = await Promise.allSettled(
    Array.from({ length: size }, () => startSecondBroker({ advancedConfig })),
  );
  const nodes = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  try {
    const failed = started.find((s) => s.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    for (const node of nodes.slice(1)) await node.joinCluster(nodes[0].nodeName);
  } catch (error) {
    for (const node of nodes.reverse()) await node[Symbol.asyncDispose]();
    throw error;
  }
  const alive = async (): Promise<SecondBroker> => {
    for (const node of nodes) {
      if (await node.ctl("status").then(() => true, () => false)) return node;
    }
    throw new Error("no node of the cluster is up");
  };
  return {
    nodes,
    url: nodes.map((node) => node.url).join(";"),
    async leaderOf(queue) {
      const listing = await (await alive()).ctl(
        "list_queues",
        "-q",
        "--no-table-headers",
        "name",
        "leader",
      );
      const line = listing.split("\n").find((l) => l.split("\t")[0] === queue);
      const leader = line?.split("\t")[1]?.trim();
      return nodes.findIndex((node) => node.nodeName === leader);
    },
    async nodeOfConnection(connectionName) {
      for (const node of nodes) {
        const listing = await node.ctl(
          "list_connections",
          "-q",
          "--no-table-headers",
          "node",
          "client_properties",
        ).catch(() => "");
        const line = listing.split("\n").find((l) =>
          l.includes(`{"connection_name","${connectionName}"}`)
        );
        if (line !== undefined) return nodes.findIndex((n) => line.startsWith(n.nodeName));
      }
      return -1;
    },
    async [Symbol.asyncDispose]() {
      for (const node of [...nodes].reverse()) await node[Symbol.asyncDispose]();
    },
  };
}
