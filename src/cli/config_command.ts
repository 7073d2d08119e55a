/**
 * `dts config check F`: list every problem of a config file.
 * @module
 */
import type { Command } from "commander";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import type { CliContext } from "./cli_context.ts";
import { plural } from "./plural.ts";

/** Register `config check`. */
export function registerConfigCommand(
  program: Command,
  ctx: CliContext,
  run: (work: () => Promise<number>) => void,
): void {
  const config = program.command("config").description("work with config files");
  config.command("check")
    .description("validate a config file; print every problem with its path and line")
    .argument("<file>", "YAML config file")
    .addHelpText(
      "after",
      "\nExamples:\n  dts config check config/test-config.yml\n\nExit code 0 when valid, 2 with one line per problem on stderr.",
    )
    .action((file: string) =>
      run(async () => {
        try {
          // Only the file: env and flags are not part of what is checked.
          const loaded = await loadConfig({ path: file, env: {} });
          const tasks = Object.keys(loaded.tasks).length;
          const jobs = loaded.dispatch.jobs.length;
          ctx.stdout(
            `${file}: OK ("${loaded.name}", ${plural(tasks, "task")}, ${plural(jobs, "job")})\n`,
          );
          return 0;
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          ctx.stderr(`${error.message}\n`);
          ctx.stderr(`${plural(error.issues.length, "problem")} in ${file}\n`);
          return error.exitCode;
        }
      })
    );
}
