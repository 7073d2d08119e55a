/**
 * Run the dts program as a user would: a separate process, from source with
 * `deno run` and the same permission set as the compiled binary, or the
 * binary named by `DTS_BIN`.
 * @module
 */

import { currentProgram, dtsCommandLine } from "../../src/program_location.ts";
import { type ProcessRun, SpawnedProcess } from "./spawned_process.ts";

const root = new URL("../../", import.meta.url).pathname;

/** What a finished run printed and how it exited. */
export type CliResult = ProcessRun;

/** Options for one run. */
export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the process after this long. @default 60_000 */
  timeoutMs?: number;
}

function command(args: readonly string[], options: CliOptions): Deno.Command {
  const bin = Deno.env.get("DTS_BIN");
  // The same program the way a host runs it: the binary when given, else
  // `deno run` of src/main.ts with the binary's permission set.
  const line = bin ? { command: bin, args: [...args] } : dtsCommandLine(currentProgram(), args);
  return new Deno.Command(line.command, {
    args: line.args,
    cwd: options.cwd ?? root,
    env: { NO_COLOR: "1", DTS_HEALTH_PORT: "0", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Run `dts <args>` to the end. */
export async function runCli(
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const child = command(args, options).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 60_000);
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A long-running dts process (a worker), SIGKILLed on dispose. */
export class CliProcess extends SpawnedProcess {
  constructor(args: readonly string[], options: CliOptions = {}) {
    super(command(args, options));
  }
}
