/**
 * The real `ProcessLauncher`: starts `dts worker` as a child process of this
 * same program, the compiled binary or `deno run src/main.ts` from source.
 * @module
 */
import { currentProgram, dtsCommandLine, type ProgramLocation } from "../program_location.ts";
import type {
  ProcessExit,
  ProcessLauncher,
  WorkerProcess,
  WorkerSpec,
} from "./process_launcher.ts";

/** What every child gets besides its own task, name and port. */
export interface ChildSettings {
  /** `--config` for the children (relative paths resolve in the inherited working directory). */
  configPath?: string;
  /** `--plugins` folders. */
  pluginDirs?: readonly string[];
  /** Variables set for the children on top of the inherited environment (broker URL, log settings). */
  env?: Readonly<Record<string, string>>;
}

/** The executable and arguments that run `dts worker` for `spec`. */
export function workerCommandLine(
  spec: WorkerSpec,
  options: { program: ProgramLocation; settings?: ChildSettings },
): { command: string; args: string[] } {
  const { program, settings = {} } = options;
  const workerArgs = ["worker", "--task", spec.key, "--name", spec.name];
  workerArgs.push("--health-port", String(spec.healthPort));
  if (settings.configPath !== undefined) workerArgs.push("--config", settings.configPath);
  for (const dir of settings.pluginDirs ?? []) workerArgs.push("--plugins", dir);
  return dtsCommandLine(program, workerArgs);
}

/**
 * A launcher that spawns `dts worker` processes. Each child runs in its own
 * process group, so a Ctrl-C at the terminal reaches only the scaler, which
 * then stops the children with exactly one SIGTERM (a second signal would
 * make a worker quit without draining). stdout and stderr are inherited, so
 * the children's logs reach the operator.
 */
export function createDenoLauncher(
  options: { program?: ProgramLocation; settings?: ChildSettings } = {},
): ProcessLauncher {
  const program = options.program ?? currentProgram();
  return {
    launch(spec: WorkerSpec): WorkerProcess {
      const { command, args } = workerCommandLine(spec, { program, settings: options.settings });
      const child = new Deno.Command(command, {
        args,
        env: { ...options.settings?.env },
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
        detached: true,
      }).spawn();
      const exited: Promise<ProcessExit> = child.status.then(
        (status) => ({ code: status.code, signal: status.signal }),
        () => ({ code: -1, signal: null }),
      );
      let done = false;
      exited.then(() => done = true);
      return {
        pid: child.pid,
        exited,
        kill(signal: "SIGTERM" | "SIGKILL"): void {
          if (done) return;
          try {
            child.kill(signal);
          } catch {
            // It ended between the check and the signal.
          }
        },
      };
    },
  };
}
