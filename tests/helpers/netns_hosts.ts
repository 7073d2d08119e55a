/**
 * Several "hosts" on this machine: one network namespace each, joined by a
 * bridge on the machine's side, with addresses from a private /24 this
 * helper picks (one no interface here uses) and removes again. Needs root
 * and `ip` (iproute2).
 * @module
 */

/** A namespace with one link to the bridge. */
export interface NetnsHost {
  readonly name: string;
  /** The host's address on the bridge. */
  readonly address: string;
  /** Run a command inside the namespace. */
  command(
    program: string,
    args: string[],
    options: Omit<Deno.CommandOptions, "args">,
  ): Deno.Command;
  /** Take the host's link down (as if its cable were pulled): no RST, no FIN, silence. */
  cut(): Promise<void>;
}

/** The hosts and the bridge; dispose to delete every namespace, link and address made. */
export interface NetnsHosts extends AsyncDisposable {
  /** The machine's own address on the bridge: what the hosts reach it at. */
  readonly gateway: string;
  readonly hosts: readonly NetnsHost[];
}

async function ip(...args: string[]): Promise<string> {
  const output = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`ip ${args.join(" ")} failed: ${decoder.decode(output.stderr).trim()}`);
  }
  return decoder.decode(output.stdout);
}

/** A 10.x.y.0/24 that no interface on this machine has an address in. */
async function freeSubnet(): Promise<string> {
  const used = await ip("-4", "-o", "addr", "show");
  for (let tries = 0; tries < 50; tries++) {
    const prefix = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
    if (!used.includes(` ${prefix}.`)) return prefix;
  }
  throw new Error("Cannot find a free 10.x.y.0/24 for the test's hosts");
}

/** Make `count` hosts. */
export async function startNetnsHosts(count: number): Promise<NetnsHosts> {
  if (Deno.uid() !== 0) {
    throw new Error("Network namespaces need root: run the fleet tests as root (CI does)");
  }
  const tag = crypto.randomUUID().slice(0, 6);
  const prefix = await freeSubnet();
  const bridge = `dtsbr${tag}`;
  const made: { namespaces: string[]; links: string[] } = { namespaces: [], links: [bridge] };
  const cleanup = async () => {
    for (const ns of made.namespaces) await ip("netns", "delete", ns).catch(() => {});
    for (const link of made.links) await ip("link", "delete", link).catch(() => {});
  };
  try {
    await ip("link", "add", bridge, "type", "bridge");
    await ip("addr", "add", `${prefix}.1/24`, "dev", bridge);
    await ip("link", "set", bridge, "up");
    const hosts: NetnsHost[] = [];
    for (let i = 1; i <= count; i++) {
      const ns = `dts-h${i}-${tag}`;
      const outside = `dv${i}${tag}`;
      const inside = `dp${i}${tag}`;
      const address = `${prefix}.${10 + i}`;
      await ip("netns", "add", ns);
      made.namespaces.push(ns);
      await ip("link", "add", outside, "type", "veth", "peer", "name", inside);
      made.links.push(outside);
      await ip("link", "set", inside, "netns", ns);
      await ip("link", "set", outside, "master", bridge);
      await ip("link", "set", outside, "up");
      await ip("-n", ns, "addr", "add", `${address}/24`, "dev", inside);
      await ip("-n", ns, "link", "set", inside, "up");
      await ip("-n", ns, "link", "set", "lo", "up");
      hosts.push({
        name: ns,
        address,
        command: (program, args, options) =>
          new Deno.Command("ip", { ...options, args: ["netns", "exec", ns, program, ...args] }),
        cut: async () => {
          await ip("link", "set", outside, "down");
        },
      });
    }
    return { gateway: `${prefix}.1`, hosts, [Symbol.asyncDispose]: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
