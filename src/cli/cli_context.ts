/**
 * What a command gets from the process: arguments are parsed by commander,
 * everything else arrives here so commands stay testable. Only `main.ts`
 * builds a real one.
 * @module
 */

/** The outside world as seen by a command. */
export interface CliContext {
  /** Environment variables (only `main.ts` reads `Deno.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Write to stdout. */
  stdout(text: string): void;
  /** Write to stderr. */
  stderr(text: string): void;
  stdoutIsTerminal: boolean;
  stderrIsTerminal: boolean;
  /** Aborts on SIGINT or SIGTERM; the reason is the signal's name. */
  shutdown: AbortSignal;
  /** This host's name, for default worker names. */
  hostname: string;
}

/** Whether to colour output on a stream: a terminal, and `NO_COLOR` unset (no-color.org). */
export function useColor(ctx: CliContext, isTerminal: boolean): boolean {
  const noColor = ctx.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  return isTerminal;
}

/** Resolve once SIGINT or SIGTERM arrived. */
export function waitForShutdown(ctx: CliContext): Promise<void> {
  const signal = ctx.shutdown;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
