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
  /** Width of the terminal stdout writes to; null when it is not a terminal. */
  stdoutColumns: number | null;
  /** Width of the terminal stderr writes to; null when it is not a terminal. */
  stderrColumns: number | null;
  /** Aborts on SIGINT or SIGTERM; the reason is the signal's name. */
  shutdown: AbortSignal;
  /** This host's name, for default worker names. */
  hostname: string;
  /** This process's id, for default worker names. */
  pid: number;
  /**
   * Give up permissions this process will not need (`Deno.permissions.revoke`).
   * Only the real program drops any; in tests commands run with the test's own.
   */
  dropPermissions?(names: readonly DroppablePermission[]): Promise<void>;
  /**
   * Ask a yes/no question; present only when a person can answer (stdin and
   * stderr are terminals). Resolves to the answer, false without one.
   */
  askYesNo?(question: string): Promise<boolean>;
}

/** The permissions a command may give up at its start. */
export type DroppablePermission = "run" | "write" | "net" | "ffi";

/**
 * Whether to colour output on a stream. `NO_COLOR` (non-empty) always wins
 * (no-color.org); then `FORCE_COLOR` turns colour on even when not a terminal,
 * except `FORCE_COLOR=0` or `false`, which turn it off (as Node.js and chalk
 * read it); then `CLICOLOR_FORCE` other than `0` or empty turns it on
 * (bixense.com/clicolors); else colour only on a terminal.
 */
export function useColor(ctx: Pick<CliContext, "env">, isTerminal: boolean): boolean {
  const { NO_COLOR: noColor, FORCE_COLOR: forceColor, CLICOLOR_FORCE: cliColorForce } = ctx.env;
  if (noColor !== undefined && noColor !== "") return false;
  if (forceColor !== undefined) return forceColor !== "0" && forceColor !== "false";
  if (cliColorForce !== undefined && cliColorForce !== "" && cliColorForce !== "0") return true;
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
