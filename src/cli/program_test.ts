import assert from "node:assert/strict";
import type { CliContext } from "./cli_context.ts";
import { runCli } from "./program.ts";

function fakeContext(): CliContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    env: {},
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    stdoutIsTerminal: false,
    stderrIsTerminal: false,
    stdoutColumns: null,
    stderrColumns: null,
    shutdown: new AbortController().signal,
    hostname: "host",
    pid: 1234,
  };
}

Deno.test("runCli() answers --version and -V with what `dts version` prints, exit 0", async () => {
  const reference = fakeContext();
  assert.equal(await runCli(["version"], reference), 0);
  assert.match(reference.out.join(""), /^dts \d+\.\d+\.\d+\ndeno /);
  for (const flag of ["--version", "-V"]) {
    const ctx = fakeContext();
    assert.equal(await runCli([flag], ctx), 0, `${flag}: ${ctx.err.join("")}`);
    assert.equal(ctx.out.join(""), reference.out.join(""), flag);
    assert.deepEqual(ctx.err, [], flag);
  }
});

Deno.test("runCli() refuses an unknown option with exit 2", async () => {
  const ctx = fakeContext();
  assert.equal(await runCli(["--version-flag"], ctx), 2);
  assert.match(ctx.err.join(""), /unknown option '--version-flag'/);
});
