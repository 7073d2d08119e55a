/**
 * How to run this same program again as a child process: the compiled
 * binary itself, or `deno run` of `src/main.ts` with the `dts` permission
 * set (the same permissions the binary has baked in).
 * @module
 */
import { fileURLToPath } from "node:url";

/** Where this program runs from. */
export interface ProgramLocation {
  /** Inside a `deno compile` binary (`Deno.build.standalone`). */
  standalone: boolean;
  /** The binary, or the deno executable (`Deno.execPath()`). */
  execPath: string;
  /** `src/main.ts`, run by `deno run` when not standalone. */
  mainModule: URL;
  /** The `deno.json` that holds the `dts` permission set. */
  denoConfig: URL;
}

/** Where this program runs from right now. Reads `Deno.execPath()`, so call it at run time. */
export function currentProgram(): ProgramLocation {
  return {
    standalone: Deno.build.standalone === true,
    execPath: Deno.execPath(),
    mainModule: new URL("./main.ts", import.meta.url),
    denoConfig: new URL("../deno.json", import.meta.url),
  };
}

/** The executable and arguments that run `dts <args>`. */
export function dtsCommandLine(
  program: ProgramLocation,
  args: readonly string[],
): { command: string; args: string[] } {
  if (program.standalone) return { command: program.execPath, args: [...args] };
  return {
    command: program.execPath,
    args: [
      "run",
      "--quiet",
      "--frozen",
      `--config=${fileURLToPath(program.denoConfig)}`,
      "-P=dts",
      "--no-prompt",
      fileURLToPath(program.mainModule),
      ...args,
    ],
  };
}
