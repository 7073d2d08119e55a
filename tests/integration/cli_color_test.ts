/**
 * Colour as a user asks for it: NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE
 * reach the program and decide, even when stdout is a pipe.
 */
import assert from "node:assert/strict";
import { runCli } from "../helpers/run_cli.ts";

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[\d+m/;

Deno.test("dts demo colours its pretty output on a pipe with FORCE_COLOR or CLICOLOR_FORCE", async () => {
  const forced: Record<string, string>[] = [{ FORCE_COLOR: "1" }, { CLICOLOR_FORCE: "1" }];
  for (const env of forced) {
    const run = await runCli(["demo", "--output", "pretty", "--no-save"], {
      env: { NO_COLOR: "", ...env },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, ANSI, JSON.stringify(env));
    assert.doesNotMatch(run.stdout, /\r/, "whole lines on a pipe, no redraws");
  }
});

Deno.test("dts demo prints no colour on a pipe by default, and none when NO_COLOR is set", async () => {
  const plain: Record<string, string>[] = [{ NO_COLOR: "" }, { NO_COLOR: "1", FORCE_COLOR: "1" }];
  for (const env of plain) {
    const run = await runCli(["demo", "--output", "pretty", "--no-save"], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, ANSI, JSON.stringify(env));
  }
});
