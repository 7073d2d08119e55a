/**
 * `dts demo`: the whole system in one process on the embedded `memory://`
 * broker: a worker for task a, one for task b, and a dispatch of the seed config.
 * @module
 */
import { type Command, Option } from "commander";
import { HostedRunner } from "../attempt/hosted/hosted_runner.ts";
import { resolveTask } from "../plugin/resolve_tasks.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { openTransport } from "../transport/open_transport.ts";
import { Worker } from "../worker/worker.ts";
import type { CliContext } from "./cli_context.ts";
import { commandLogger, loadCommandConfig, loadCommandPlugins } from "./common_options.ts";
import { DEFAULT_CONFIG_PATH, dispatchCommand } from "./dispatch_command.ts";
import { VERSION } from "./version_command.ts";

interface DemoFlags {
  config?: string;
  output?: "pretty" | "json";
  save: boolean;
  resultsDir?: string;
  logLevel?: "debug" | "info" | "warn" | "error";
}

/** Register `demo`. */
export function registerDemoCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  program.command("demo")
    .description(
      "run workers for a and b and a dispatch of the seed config, all in this process on memory://",
    )
    .option("-c, --config <file>", "config to dispatch", DEFAULT_CONFIG_PATH)
    .addOption(new Option("-o, --output <format>", "pretty or json").choices(["pretty", "json"]))
    .option("--results-dir <dir>", "where to save the results file")
    .option("--no-save", "do not save the results file")
    .addOption(
      new Option("--log-level <level>", "worker log level").choices([
        "debug",
        "info",
        "warn",
        "error",
      ])
        .default("warn"),
    )
    .addHelpText("after", "\nExamples:\n  dts demo\n  dts demo --output json --no-save")
    .action((flags: DemoFlags) => run(() => demoCommand(flags, ctx)));
}

/** Run the demo; resolves to the dispatch's exit code. */
export async function demoCommand(flags: DemoFlags, ctx: CliContext): Promise<number> {
  const memoryBroker = new MemoryBroker();
  const brokerUrl = "memory://";
  const configPath = await demoConfigPath(flags.config);
  const config = await loadCommandConfig(
    { config: configPath, broker: brokerUrl, logLevel: flags.logLevel },
    ctx,
  );
  const logger = commandLogger(config, ctx);
  const plugins = await loadCommandPlugins();
  const workers: Worker[] = [];
  const transports = [];
  try {
    for (const key of ["a", "b"]) {
      const transport = await openTransport(brokerUrl, { memoryBroker });
      transports.push(transport);
      const workerLogger = logger.child({ worker: `worker-${key}` });
      const worker = new Worker({
        transport,
        tasks: [resolveTask(key, { tasks: config.tasks, plugins })],
        name: `worker-${key}@${ctx.hostname}`,
        concurrency: config.worker.concurrency,
        logger: workerLogger,
        version: VERSION,
        // The same isolation as `dts worker`: each plugin in its own host.
        runner: new HostedRunner({ logger: workerLogger }),
      });
      await worker.start();
      workers.push(worker);
    }
    return await dispatchCommand(
      {
        config: configPath,
        broker: brokerUrl,
        logLevel: flags.logLevel,
        output: flags.output,
        save: flags.save,
        resultsDir: flags.resultsDir,
      },
      ctx,
      { memoryBroker },
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.stop({ drainTimeoutMs: 1000 })));
    await Promise.all(transports.map((transport) => transport.close()));
    await memoryBroker.close();
  }
}

/**
 * The seed config in the working directory, else the copy embedded in the
 * binary (`--include config/test-config.yml`), so `dts demo` works anywhere.
 */
async function demoConfigPath(path: string | undefined): Promise<string> {
  const wanted = path ?? DEFAULT_CONFIG_PATH;
  if (wanted !== DEFAULT_CONFIG_PATH) return wanted;
  try {
    await Deno.stat(wanted);
    return wanted;
  } catch {
    return new URL("../../config/test-config.yml", import.meta.url).pathname;
  }
}
