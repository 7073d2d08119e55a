/**
 * `dts config check F [--plugins DIR]`: list every problem of a config file,
 * including jobs, `load.task` and `scaling` entries that name a task neither
 * the config's `tasks` nor a plugin (built-in or from `--plugins`) defines.
 * @module
 */
import type { Command } from "commander";
import { loadConfigDocument } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import type { CliContext } from "./cli_context.ts";
import { loadCommandPlugins } from "./common_options.ts";
import { plural } from "./plural.ts";
import { unknownTaskIssues } from "./task_refs.ts";

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
    .option(
      "-p, --plugins <dir>",
      "also count the tasks of this plugin folder as known (as dts worker --plugins); repeatable",
      (dir: string, dirs: string[] = []) => [...dirs, dir],
    )
    .addHelpText(
      "after",
      `
Tasks that jobs, load.task and scaling name must be defined by the config's
tasks section (a Celery-only task needs nothing else) or by a plugin: the
built-in ones, or those of each --plugins folder.

Examples:
  dts config check config/test-config.yml
  dts config check prod.yml --plugins ./my-plugins

Exit code 0 when valid, 2 with one line per problem on stderr.`,
    )
    .action((file: string, flags: { plugins?: string[] }) =>
      run(() => checkConfigFile(file, flags.plugins ?? [], ctx))
    );
}

async function checkConfigFile(
  file: string,
  pluginDirs: readonly string[],
  ctx: CliContext,
): Promise<number> {
  let problems: ConfigError;
  try {
    // Only the file: env and flags are not part of what is checked.
    const doc = await loadConfigDocument({ path: file, env: {} });
    const plugins = await loadCommandPlugins(pluginDirs);
    const unknown = unknownTaskIssues(doc, plugins);
    if (unknown.length === 0) {
      const { config } = doc;
      const tasks = plural(Object.keys(config.tasks).length, "task");
      const jobs = plural(config.dispatch.jobs.length, "job");
      ctx.stdout(`${file}: OK ("${config.name}", ${tasks}, ${jobs})\n`);
      return 0;
    }
    problems = new ConfigError(file, unknown);
    if (pluginDirs.length === 0) {
      ctx.stderr(`${problems.message}\n`);
      ctx.stderr("(tasks of plugin folders count only when given: --plugins DIR)\n");
      ctx.stderr(`${plural(problems.issues.length, "problem")} in ${file}\n`);
      return problems.exitCode;
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error;
  }
  ctx.stderr(`${problems.message}\n`);
  ctx.stderr(`${plural(problems.issues.length, "problem")} in ${file}\n`);
  return problems.exitCode;
}
