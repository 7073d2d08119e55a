/**
 * A `ProcessLauncher` for `dts scale --dry-run`: starts nothing, says what it would do.
 * @module
 */
import type {
  ProcessExit,
  ProcessLauncher,
  WorkerProcess,
  WorkerSpec,
} from "./process_launcher.ts";

/** A launcher whose "processes" only exist on paper; they end as soon as they are signalled. */
export function createDryRunLauncher(write: (line: string) => void): ProcessLauncher {
  return {
    launch(spec: WorkerSpec): WorkerProcess {
      write(`would start ${spec.name}`);
      let end: (exit: ProcessExit) => void = () => {};
      const exited = new Promise<ProcessExit>((resolve) => end = resolve);
      let done = false;
      return {
        pid: null,
        exited,
        kill(signal: "SIGTERM" | "SIGKILL"): void {
          if (done) return;
          done = true;
          write(`would stop ${spec.name} (${signal})`);
          end({ code: 0, signal: null });
        },
      };
    },
  };
}
