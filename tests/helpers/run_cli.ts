/**
 * Run the dts program as a user would: a separate process, from source with
 * `deno run` and the same permission set as the compiled binary, or the
 * binary named by `DTS_BIN`.
 * @module
 */

const root = new URL("../../", import.meta.url).pathname;

/** What a finished run printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for one run. */
export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the process after this long. @default 60_000 */
  timeoutMs?: number;
}

function command(args: readonly string[], options: CliOptions): Deno.Command {
  const bin = Deno.env.get("DTS_BIN");
  const [exe, fullArgs] = bin ? [bin, [...args]] : [Deno.execPath(), [
    "run",
    "--quiet",
    "--frozen",
    `--config=${root}deno.json`,
    "-P=dts",
    "--no-prompt",
    `${root}src/main.ts`,
    ...args,
  ]];
  return new Deno.Command(exe, {
    args: fullArgs,
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

/** A long-running dts process (a worker), stopped on dispose. */
export class CliProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  #stderr = "";
  #stdout = "";
  readonly #waiters: { pattern: RegExp; resolve: () => void }[] = [];
  readonly #done: Promise<CliResult>;

  constructor(args: readonly string[], options: CliOptions = {}) {
    this.#child = command(args, options).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (into === "stderr") this.#stderr += text;
        else this.#stdout += text;
        this.#check();
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

  /** Everything printed to stderr so far (the logs). */
  get stderr(): string {
    return this.#stderr;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Resolve once stderr or stdout matches `pattern`; reject after `timeoutMs` or if the process ends first. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    if (pattern.test(this.#stderr + this.#stdout)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const matched = new Promise<void>((resolve) => this.#waiters.push({ pattern, resolve }));
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`No output matching ${pattern} within ${timeoutMs} ms:\n${this.#stderr}`),
          ),
        timeoutMs,
      );
      this.#done.then((r) =>
        reject(
          new Error(`Process exited (${r.code}) before output matched ${pattern}:\n${r.stderr}`),
        )
      );
    });
    failed.catch(() => {});
    try {
      await Promise.race([matched, failed]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send a signal. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch { /* already exited */ }
  }

  /** Wait for the process to end. */
  finished(): Promise<CliResult> {
    return this.#done;
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

  #check(): void {
    const text = this.#stderr + this.#stdout;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      if (this.#waiters[i].pattern.test(text)) {
        this.#waiters[i].resolve();
        this.#waiters.splice(i, 1);
      }
    }
  }
}
