/**
 * `dts version`: what this binary is.
 * @module
 */
import type { Command } from "commander";
import denoConfig from "../../deno.json" with { type: "json" };
import type { CliContext } from "./cli_context.ts";

/** dts's own version, from deno.json. */
export const VERSION: string = denoConfig.version;

/** Register `version`. */
export function registerVersionCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  program.command("version")
    .description("print the dts version, the Deno version and the build target")
    .option("--json", "one JSON object")
    .addHelpText("after", "\nExamples:\n  dts version\n  dts version --json")
    .action((flags: { json?: boolean }) =>
      run(() => {
        const info = {
          dts: VERSION,
          deno: Deno.version.deno,
          v8: Deno.version.v8,
          typescript: Deno.version.typescript,
          target: Deno.build.target,
          compiled: Deno.build.standalone === true,
        };
        ctx.stdout(
          flags.json
            ? `${JSON.stringify(info)}\n`
            : `dts ${info.dts}\ndeno ${info.deno} (v8 ${info.v8}, typescript ${info.typescript})\ntarget ${info.target}${
              info.compiled ? " (compiled)" : ""
            }\n`,
        );
        return Promise.resolve(0);
      })
    );
}
