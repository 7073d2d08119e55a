/**
 * The entrypoint of an image built with `--build-arg DTS_BUILD=run`: a bash
 * script that runs `src/main.ts` under `deno run` with the flags of the
 * `compile` task in deno.json, so the image behaves as the compiled binary
 * would (same entry point, permission set, unstable features, lockfile rule).
 * The wrapper is derived from the task at build time rather than written out
 * by hand, so a flag added to the task cannot be forgotten here. Flags that
 * only shape the binary's file (`--output`, `--include`, …) are dropped:
 * under `deno run` those files are read from the image's `/opt/dts`.
 *
 * Build stage: `deno run --allow-read=deno.json scripts/container/run_mode_wrapper.ts /opt/dts`
 * prints the wrapper on stdout.
 * @module
 */

/** `deno compile` flags that take a value and only matter to the binary's file. */
const COMPILE_ONLY_WITH_VALUE = new Set([
  "--output",
  "-o",
  "--include",
  "--exclude",
  "--target",
  "--icon",
]);

/** `deno compile` flags without a value that only matter to the binary's file. */
const COMPILE_ONLY_SWITCHES = new Set([
  "--exclude-unused-npm",
  "--no-terminal",
  "--self-extracting",
]);

/** What `deno run` needs to run the program the compile task builds. */
export interface RunCommand {
  /** Flags for `deno run`, in the task's order. */
  flags: string[];
  /** The entry point, relative to the project folder. */
  entry: string;
  /** Arguments the task bakes into the binary, given before the caller's. */
  args: string[];
}

/**
 * Turn a `deno compile …` task into the `deno run` flags, entry point and
 * baked-in arguments of the same program.
 * @throws {TypeError} when the task is not a plain `deno compile` command line
 */
export function runCommandOfCompileTask(task: string): RunCommand {
  if (/["'\\$`]/.test(task)) {
    throw new TypeError(`Cannot derive deno run from "${task}": quoting is not supported`);
  }
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "compile") {
    throw new TypeError(`Cannot derive deno run from "${task}": it is not "deno compile …"`);
  }
  const flags: string[] = [];
  let i = 2;
  for (; i < words.length && words[i].startsWith("-"); i++) {
    const word = words[i];
    const name = word.split("=", 1)[0];
    if (COMPILE_ONLY_SWITCHES.has(name)) continue;
    if (COMPILE_ONLY_WITH_VALUE.has(name)) {
      if (!word.includes("=")) i++; // skip the value too
      continue;
    }
    flags.push(word);
  }
  const entry = words[i];
  if (entry === undefined) {
    throw new TypeError(`Cannot derive deno run from "${task}": it names no entry point`);
  }
  return { flags, entry, args: words.slice(i + 1) };
}

/** The bash entrypoint that runs `command` from the project copied to `appDir`. */
export function wrapperScript(command: RunCommand, appDir: string): string {
  const run = [
    `"$app/bin/deno"`,
    "run",
    // A compiled binary prints none of deno's own progress lines; neither does this.
    "--quiet",
    ...command.flags,
    `--config="$app/deno.json"`,
    `"$app/${command.entry}"`,
    ...command.args,
    `"$@"`,
  ];
  return [
    "#!/bin/bash",
    "# dts, from source: the image was built with DTS_BUILD=run, where deno compile",
    "# could not get its denort runtime. Generated from the compile task in deno.json",
    "# by scripts/container/run_mode_wrapper.ts: same entry point, flags, permissions.",
    `app=${appDir}`,
    "# The npm packages deno.lock pins are in the image; deno must not look for updates.",
    `export DENO_DIR="$app/deno_dir" DENO_NO_UPDATE_CHECK=1`,
    `exec ${run.join(" ")}`,
  ].join("\n");
}

if (import.meta.main) {
  const appDir = Deno.args[0] ?? "/opt/dts";
  const denoJson = JSON.parse(await Deno.readTextFile("deno.json"));
  const task = denoJson?.tasks?.compile;
  if (typeof task !== "string") throw new TypeError(`deno.json has no "compile" task`);
  console.log(wrapperScript(runCommandOfCompileTask(task), appDir));
}
