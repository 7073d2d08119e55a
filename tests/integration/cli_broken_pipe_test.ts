/**
 * `dts … | head`: when stdout's reader goes away, dts stops quietly.
 */
import assert from "node:assert/strict";
import { currentProgram, dtsCommandLine } from "../../src/program_location.ts";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("dts demo whose stdout reader leaves after the first lines exits 0 with nothing on stderr about it", async () => {
  const bin = Deno.env.get("DTS_BIN");
  const args = ["demo", "--output", "pretty", "--no-save"];
  const line = bin ? { command: bin, args } : dtsCommandLine(currentProgram(), args);
  const child = new Deno.Command(line.command, {
    args: line.args,
    cwd: root,
    env: { NO_COLOR: "1", DTS_HEALTH_PORT: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read the header, then close the pipe, as `head -1` does.
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /^Dispatch: /);
  await reader.cancel();
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  assert.equal(status.code, 0, stderr);
  assert.doesNotMatch(stderr, /BrokenPipe|Broken pipe|Reporter failed|unexpected error/, stderr);
});
