/**
 * The seam between the scaler and operating-system processes: the real
 * launcher spawns `dts worker`, tests use a fake one.
 * @module
 */

/** One worker process to start. */
export interface WorkerSpec {
  /** Scaling key, passed as `dts worker --task <key>`. */
  key: string;
  /** Worker name, `worker-<key>-<n>@<hostname>`. */
  name: string;
  /** Health/metrics port; 0 turns the server off. */
  healthPort: number;
}

/** How a process ended. */
export interface ProcessExit {
  code: number;
  signal: string | null;
}

/** A started worker process. */
export interface WorkerProcess {
  /** OS process id; null when there is no real process (dry run, fakes). */
  readonly pid: number | null;
  /** Resolves once the process has ended; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Send a signal; does nothing once the process has ended. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
}

/** Starts worker processes. */
export interface ProcessLauncher {
  /**
   * Start one worker process.
   * @throws {Error} when the process cannot be started
   */
  launch(spec: WorkerSpec): WorkerProcess;
}
