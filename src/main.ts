/**
 * The `dts` entry point: the only place that reads `Deno.args` and
 * `Deno.env`, listens for signals, and turns errors into exit codes.
 * @module
 */
import { dropPermissions } from "./cli/drop_permissions.ts";
import { askYesNo } from "./cli/terminal_question.ts";
import { BatchedOutput } from "./cli/batched_output.ts";
import { runCli } from "./cli/program.ts";
import { ENV_VARS } from "./config/overrides.ts";
import { DtsError } from "./errors.ts";
import { redactText } from "./log/redact.ts";

/**
 * stderr carries the logs, a line or two per task: written once per turn.
 * Flushed before anything that ends the process, and by the listeners below
 * when something nobody caught is about to.
 */
const stderr = new BatchedOutput((bytes) => writeAll(Deno.stderr, bytes));

/** Flush stderr, then exit. */
function exit(code: number): never {
  stderr.flush();
  Deno.exit(code);
}

async function main(): Promise<number> {
  const shutdown = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: "SIGINT" | "SIGTERM") => () => {
    interrupts++;
    // A second Ctrl-C means "now": no drain.
    if (interrupts > 1) exit(signal === "SIGINT" ? 130 : 143);
    shutdown.abort(signal);
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  const encoder = new TextEncoder();
  try {
    return await runCli(Deno.args, {
      env: readEnv(),
      stdout: (text) => writeStdout(encoder.encode(text)),
      stderr: (text) => stderr.write(text),
      stdoutIsTerminal: Deno.stdout.isTerminal(),
      stderrIsTerminal: Deno.stderr.isTerminal(),
      stdoutColumns: columnsOf(Deno.stdout),
      stderrColumns: columnsOf(Deno.stderr),
      shutdown: shutdown.signal,
      hostname: Deno.hostname(),
      dropPermissions,
      pid: Deno.pid,
      askYesNo: Deno.stdin.isTerminal() && Deno.stderr.isTerminal()
        ? (question) => askYesNo(question, (text) => stderr.write(text))
        : undefined,
    });
  } catch (error) {
    stderr.flush();
    if (error instanceof DtsError) {
      console.error(redactText(`dts: ${error.message}`));
      return error.exitCode;
    }
    // A bug, not a user error: the stack helps whoever reports it.
    console.error(
      redactText(`dts: unexpected error: ${error instanceof Error ? error.stack : String(error)}`),
    );
    return 1;
  } finally {
    stderr.flush();
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}

/** The width of the terminal `stream` writes to, or null when it is not one. */
function columnsOf(stream: { isTerminal(): boolean }): number | null {
  if (!stream.isTerminal()) return null;
  try {
    return Deno.consoleSize().columns || null;
  } catch {
    return null;
  }
}

/** Only the variables dts reads: the permission set allows no others. */
function readEnv(): Record<string, string | undefined> {
  const names = [
    ...ENV_VARS.map((v) => v.name),
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "TERM",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    // Not a config setting: the dts ui token, kept out of the process list.
    "DTS_UI_AUTH_TOKEN",
  ];
  return Object.fromEntries(names.map((name) => [name, Deno.env.get(name)]));
}

/**
 * Write to stdout; when its reader has gone (`dts … | head`), stop at once and
 * quietly with exit 0, as `yes | head` does: nobody is left to read the rest.
 */
function writeStdout(bytes: Uint8Array): void {
  try {
    writeAll(Deno.stdout, bytes);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) exit(0);
    throw error;
  }
}

function writeAll(file: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

if (import.meta.main) {
  // Neither handles the event: Deno still reports and exits as it would.
  globalThis.addEventListener("error", () => stderr.flush());
  globalThis.addEventListener("unhandledrejection", () => stderr.flush());
  globalThis.addEventListener("unload", () => stderr.flush());
  exit(await main());
}
