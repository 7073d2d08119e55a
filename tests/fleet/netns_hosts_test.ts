/**
 * Workers on three "hosts" (network namespaces, each reaching the broker
 * only through its own link) consume one queue; one host's link is cut
 * mid-run, the way a pulled cable or a dead switch port cuts it: no RST, no
 * FIN. The broker notices through the missed heartbeats and gives that
 * worker's unacknowledged tasks to the others. Nothing is lost.
 *
 * Each host runs the program from a copy holding nothing but the program's
 * files (src/, plugins/, deno.json, deno.lock, a deno binary and the npm
 * cache), `--cached-only`, as a copied binary would run: no checkout, no
 * network to fetch from. `DTS_BIN`, when set, is run instead.
 * @module
 */
import assert from "node:assert/strict";
import { dispatch } from "../../src/dispatch/dispatcher.ts";
import type { TaskEvent } from "../../src/report/task_event.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { testNamespace } from "../helpers/broker.ts";
import { type NetnsHost, startNetnsHosts } from "../helpers/netns_hosts.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { SpawnedProcess } from "../helpers/spawned_process.ts";
import { freePort, tempDir } from "../helpers/test_kit.ts";

const root = new URL("../../", import.meta.url).pathname;
const TASKS = 300;
const TASK_MS = 50;
/** The workers' AMQP heartbeat: the broker drops a silent peer after about two of them. */
const HEARTBEAT_S = 3;

/** A folder with nothing but what a host needs to run the program. */
async function copyProgram(dir: string): Promise<{ deno: string; main: string; config: string }> {
  const copy = async (from: string, to: string) => {
    const done = await new Deno.Command("cp", { args: ["-r", from, to] }).output();
    if (!done.success) throw new Error(`cp -r ${from} ${to} failed`);
  };
  await Deno.mkdir(`${dir}/dts`, { recursive: true });
  for (const part of ["src", "plugins", "deno.json", "deno.lock"]) {
    await copy(`${root}${part}`, `${dir}/dts/${part}`);
  }
  await Deno.mkdir(`${dir}/bin`);
  await copy(Deno.execPath(), `${dir}/bin/deno`);
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
  })
    .output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout)) as { npmCache: string };
  await Deno.mkdir(`${dir}/deno_dir`);
  await copy(npmCache, `${dir}/deno_dir/npm`);
  return {
    deno: `${dir}/bin/deno`,
    main: `${dir}/dts/src/main.ts`,
    config: `${dir}/dts/deno.json`,
  };
}

/** `dts worker` inside a host, from the copy; its environment holds only what it is given. */
function hostWorker(
  host: NetnsHost,
  program: { deno: string; main: string; config: string },
  options: { home: string; brokerUrl: string; name: string },
): SpawnedProcess {
  const bin = Deno.env.get("DTS_BIN");
  const args = [
    ...["worker", "--task", "slow", "--name", options.name, "--concurrency", "4"],
    ...["--config", `${options.home}/dts.yml`, "--plugins", `${options.home}/plugins`],
    ...["--log-format", "json", "--health-port", "0"],
  ];
  const line = bin ? [bin, ...args] : [
    program.deno,
    ...["run", "--quiet", "--frozen", "--cached-only", `--config=${program.config}`, "-P=dts"],
    ...["--no-prompt", program.main, ...args],
  ];
  return new SpawnedProcess(host.command("env", [
    "-i",
    `HOME=${options.home}`,
    "PATH=/usr/bin:/bin",
    `DENO_DIR=${options.home}/deno_dir`,
    "NO_COLOR=1",
    `DTS_BROKER_URL=${options.brokerUrl}`,
    ...line,
  ], { cwd: options.home, stdin: "null", stdout: "piped", stderr: "piped" }));
}

/** Which worker each task's successful result came from. */
function byWorker(finals: Map<string, TaskEvent[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const events of finals.values()) {
    for (const event of events) {
      if (event.type !== "SUCCESS") continue;
      const worker = event.worker ?? "?";
      counts.set(worker, (counts.get(worker) ?? 0) + 1);
    }
  }
  return counts;
}

Deno.test({
  name: "Hosts: a host's link is cut mid-run; its tasks go to the other hosts, nothing lost",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using net = await startNetnsHosts(3);
    const port = freePort();
    await using broker = await startSecondBroker({
      port,
      // The hosts log in as guest from their own addresses, not from loopback.
      conf: [`listeners.tcp.hosts = ${net.gateway}:${port}`, "loopback_users = none"],
    });
    await using home = await tempDir();
    const program = await copyProgram(home.path);
    const q = testNamespace().queue("hosts");
    await Deno.writeTextFile(
      `${home.path}/dts.yml`,
      `name: hosts\ntasks:\n  slow:\n    name: task_slow\n    queue: ${q}\n`,
    );
    await Deno.mkdir(`${home.path}/plugins`);
    await Deno.copyFile(
      `${root}tests/fixtures/plugins/good/slow.ts`,
      `${home.path}/plugins/slow.ts`,
    );

    const hostUrl = `amqp://guest:guest@${net.gateway}:${port}/?heartbeat=${HEARTBEAT_S}`;
    const workers = net.hosts.map((host, i) =>
      hostWorker(host, program, {
        home: home.path,
        brokerUrl: hostUrl,
        name: `host${i + 1}@${host.name}`,
      })
    );
    try {
      await Promise.all(workers.map((w) => w.waitFor(/"Worker started"/, 60_000)));
      await using transport = await AmqpTransport.connect(broker.url);
      const finals = new Map<string, TaskEvent[]>();
      let done = 0;
      let cutAt = 0;
      let lastFromCut = 0;
      const cutWorker = `host1@${net.hosts[0].name}`;
      const jobs = Array.from({ length: TASKS }, (_, i) => ({
        task: "task_slow",
        queue: q,
        args: [],
        kwargs: { ms: TASK_MS, i },
      }));
      for await (
        const event of dispatch({ transport, jobs, timeoutMs: 120_000, trackStarted: false })
      ) {
        if (event.type !== "SUCCESS" && event.type !== "FAILURE" && event.type !== "TIMEOUT") {
          continue;
        }
        finals.set(event.id, [...(finals.get(event.id) ?? []), event]);
        done++;
        if (event.type === "SUCCESS" && event.worker === cutWorker) lastFromCut = performance.now();
        if (cutAt === 0 && done >= TASKS / 3) {
          cutAt = performance.now();
          await net.hosts[0].cut();
        }
      }
      const finishedAt = performance.now();
      const succeeded = [...finals.values()].filter((es) => es.some((e) => e.type === "SUCCESS"));
      const duplicates = [...finals.values()].filter((es) => es.length > 1).length;
      const counts = byWorker(finals);
      const depths = await Promise.all(
        [q, deadLetterQueueName(q)].map(async (name) =>
          (await transport.inspectQueue(name))?.messages
        ),
      );
      console.log(
        `${succeeded.length}/${TASKS} succeeded, ${duplicates} duplicate results; by worker ${
          JSON.stringify(Object.fromEntries(counts))
        }; the run ended ${Math.round((finishedAt - cutAt) / 1000)} s after the cut`,
      );
      assert.equal(succeeded.length, TASKS, "every task succeeded");
      assert.equal(duplicates, 0, "the dispatcher saw no task twice");
      assert.equal(counts.size, 3, "every host did work before the cut");
      assert.ok(
        lastFromCut <= cutAt + 50,
        "nothing came from the cut host after its link went down",
      );
      assert.deepEqual(depths, [0, 0]);
    } finally {
      for (const worker of workers) await worker[Symbol.asyncDispose]();
    }
  },
});
