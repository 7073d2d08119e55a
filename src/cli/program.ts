/**
 * The command line: every command registered on one commander program.
 * @module
 */
import { Command, CommanderError } from "commander";
import { ENV_VARS } from "../config/overrides.ts";
import type { CliContext, DroppablePermission } from "./cli_context.ts";
import { registerConfigCommand } from "./config_command.ts";
import { registerDemoCommand } from "./demo_command.ts";
import { registerDispatchCommand } from "./dispatch_command.ts";
import { registerDlqCommand } from "./dlq_command.ts";
import { registerInspectCommand } from "./inspect_command.ts";
import { registerLoadCommand } from "./load_command.ts";
import { registerRevokeCommand } from "./revoke_command.ts";
import { registerScheduleCommand } from "./schedule_command.ts";
import { registerScaleCommand } from "./scale_command.ts";
import { registerStatusCommand } from "./status_command.ts";
import { registerUiCommand } from "./ui_command.ts";
import { formatVersion, registerVersionCommand, versionInfo } from "./version_command.ts";
import { registerWorkerCommand } from "./worker_command.ts";

/** Parse `argv` (without the program name), run the command, resolve to its exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let work: Promise<number> | null = null;
  const run = (start: () => Promise<number>) => {
    work = start();
  };
  const program = new Command("dts")
    .description("dts: a distributed task system that speaks Celery's wire format")
    .version(formatVersion(versionInfo()), "-V, --version", "print the version (as `dts version`)")
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .configureOutput({
      writeOut: (text) => ctx.stdout(text),
      writeErr: (text) => ctx.stderr(text),
    })
    .addHelpText("after", helpFooter());
  // Each command gives up at its start what it never needs (the worker decides
  // for itself, from what its plugins declare): only `dts scale` runs programs.
  const dropping = (names: readonly DroppablePermission[]) => (start: () => Promise<number>) =>
    run(async () => {
      await ctx.dropPermissions?.(names);
      return await start();
    });
  registerWorkerCommand(program, ctx, run);
  registerDispatchCommand(program, ctx, dropping(["run", "ffi"]));
  registerStatusCommand(program, ctx, dropping(["run", "write", "ffi"]));
  registerLoadCommand(program, ctx, dropping(["run", "ffi"]));
  registerScaleCommand(program, ctx, dropping(["ffi"]));
  registerScheduleCommand(program, ctx, dropping(["run", "write", "ffi"]));
  registerDemoCommand(program, ctx, dropping(["run", "ffi"]));
  registerDlqCommand(program, ctx, dropping(["run", "write", "ffi"]));
  registerRevokeCommand(program, ctx, dropping(["run", "write", "ffi"]));
  registerInspectCommand(program, ctx, dropping(["run", "write", "ffi"]));
  // The dashboard writes its history (SQLite), so it keeps write.
  registerUiCommand(program, ctx, dropping(["run", "ffi"]));
  registerConfigCommand(program, ctx, dropping(["run", "write", "net", "ffi"]));
  registerVersionCommand(program, ctx, dropping(["run", "write", "net", "ffi"]));
  for (const command of program.commands) {
    command.exitOverride();
    command.commands.forEach((sub) => sub.exitOverride());
  }

  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every other parse error is bad usage.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  return work === null ? 0 : await work;
}

function helpFooter(): string {
  const env = ENV_VARS.map((v) => `  ${v.name.padEnd(18)} ${v.description}`);
  return `
Examples:
  dts worker --task a                         consume queue_a, run task_a
  dts dispatch --config config/test-config.yml
  dts status
  dts ui                                      the web dashboard on http://127.0.0.1:8090/
  dts demo                                    everything in one process on memory://

Environment (flag > env > config file > default):
${env.join("\n")}

Tracing: OTEL_DENO=true with OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* variables)
exports a span per task sent and per attempt, W3C traceparent in the message (README, Tracing).

Colour: on a terminal only; FORCE_COLOR or CLICOLOR_FORCE turn it on for pipes too
(FORCE_COLOR=0 turns it off); NO_COLOR turns it off and wins over both.

Exit codes: 0 all good; 1 some task failed; 2 bad usage or config; 3 broker unreachable; 130 interrupted.`;
}
