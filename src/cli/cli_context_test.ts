import assert from "node:assert/strict";
import { useColor } from "./cli_context.ts";

const color = (env: Record<string, string>, isTerminal: boolean): boolean =>
  useColor({ env }, isTerminal);

Deno.test("useColor() colours a terminal and not a pipe by default", () => {
  assert.equal(color({}, true), true);
  assert.equal(color({}, false), false);
});

Deno.test("useColor() turns colour on for a pipe with FORCE_COLOR or CLICOLOR_FORCE", () => {
  for (const value of ["1", "2", "3", "true", ""]) {
    assert.equal(color({ FORCE_COLOR: value }, false), true, `FORCE_COLOR=${value}`);
  }
  assert.equal(color({ CLICOLOR_FORCE: "1" }, false), true);
  assert.equal(color({ CLICOLOR_FORCE: "yes" }, false), true);
});

Deno.test("useColor() turns colour off with FORCE_COLOR=0 or false, even on a terminal", () => {
  assert.equal(color({ FORCE_COLOR: "0" }, true), false);
  assert.equal(color({ FORCE_COLOR: "false" }, true), false);
  assert.equal(color({ FORCE_COLOR: "0", CLICOLOR_FORCE: "1" }, false), false);
});

Deno.test("useColor() ignores CLICOLOR_FORCE=0 or empty", () => {
  assert.equal(color({ CLICOLOR_FORCE: "0" }, false), false);
  assert.equal(color({ CLICOLOR_FORCE: "" }, false), false);
  assert.equal(color({ CLICOLOR_FORCE: "0" }, true), true);
});

Deno.test("useColor() lets NO_COLOR win over FORCE_COLOR and CLICOLOR_FORCE", () => {
  assert.equal(color({ NO_COLOR: "1", FORCE_COLOR: "1", CLICOLOR_FORCE: "1" }, true), false);
  assert.equal(color({ NO_COLOR: "", FORCE_COLOR: "1" }, false), true);
});
