/**
 * `dts version`: what this binary is.
 * @module
 */
import type { Command } from "commander";
import denoConfig from "../../deno.json" with { type: "json" };
import type { CliContext } from "./cli_context.ts";

/** dts's own version, from deno.json. */
export const VERSION: string = denoConfig.version;

/** What `dts version` reports. */
export interface VersionInfo {
  dts: string;
  deno: string;
  v8: string;
  typescript: string;
  target: string;
  compiled: boolean;
}

/** This program's version, its Deno's and its build target. Reads `Deno.version`: call it at run time. */
export function versionInfo(): VersionInfo {
  return {
    dts: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    target: Deno.build.target,
    compiled: Deno.build.standalone === true,
  };
}

/** The lines `dts version` and `dts --version` print (without the last newline). */
export function formatVersion(info: VersionInfo): string {
  return [
    `dts ${info.dts}`,
    `deno ${info.deno} (v8 ${info.v8}, typescript ${info.typescript})`,
    `target ${info.target}${info.compiled ? " (compiled)" : ""}`,
  ].join("\n");
}

/** Register `version`. */
export function registerVersionCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  program.command("version")
    .description("print the dts version, the Deno version and the build target")
    .option("--json", "one JSON object")
    .addHelpText("after", "\nExamples:\n  dts version\n  dts version --json\n  dts --version")
    .action((flags: { json?: boolean }) =>
      run(() => {
        const info = versionInfo();
        ctx.stdout(flags.json ? `${JSON.stringify(info)}\n` : `${formatVersion(info)}\n`);
        return Promise.resolve(0);
      })
    );
}
