/**
 * A subprocess whose output tests watch: dts workers, Celery workers and
 * clients. Output is collected as it comes, so a test can wait for a line.
 * @module
 */

/** What a finished process printed and how it exited. */
export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A running subprocess with piped stdout and stderr; SIGKILLed on dispose. */
export class SpawnedProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  readonly #listeners = new Set<() => void>();
  readonly #done: Promise<ProcessRun>;

  /** Spawn `command`, which must pipe stdout and stderr. */
  constructor(command: Deno.Command) {
    this.#child = command.spawn();
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (into === "stdout") this.#stdout += text;
        else this.#stderr += text;
        for (const listener of this.#listeners) listener();
      }
    };
    const pumps = Promise.all([
      pump(this.#child.stdout, "stdout"),
      pump(this.#child.stderr, "stderr"),
    ]);
    this.#done = Promise.all([this.#child.status, pumps]).then(([status]) => ({
      code: status.code,
      stdout: this.#stdout,
      stderr: this.#stderr,
    }));
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Everything printed to stderr so far (dts and Celery log there). */
  get stderr(): string {
    return this.#stderr;
  }

  /** Everything printed so far, stderr then stdout. */
  get output(): string {
    return this.#stderr + this.#stdout;
  }

  /**
   * Resolve with the first match of `pattern` in the output.
   * @throws {Error} after `timeoutMs`, or when the process ends first, with its output
   */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    let listener = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise<RegExpMatchArray>((resolve, reject) => {
        listener = () => {
          const match = this.output.match(pattern);
          if (match) resolve(match);
        };
        this.#listeners.add(listener);
        listener();
        timer = setTimeout(
          () =>
            reject(
              new Error(`No output matching ${pattern} within ${timeoutMs} ms:\n${this.output}`),
            ),
          timeoutMs,
        );
        this.#done.then((run) =>
          reject(
            new Error(`Process exited (${run.code}) before printing ${pattern}:\n${this.output}`),
          )
        );
      });
    } finally {
      clearTimeout(timer);
      this.#listeners.delete(listener);
    }
  }

  /** Send a signal; nothing happens when the process is gone. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch { /* already exited */ }
  }

  /** Wait for the process to end. */
  finished(): Promise<ProcessRun> {
    return this.#done;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 3000): Promise<ProcessRun> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    // A grandchild that inherited our pipes could keep them open forever:
    // wait for the exit itself, and for the output only a little.
    await this.#child.status;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#done.catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
    ]);
    clearTimeout(timer);
  }
}
