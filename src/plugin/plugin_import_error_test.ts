import assert from "node:assert/strict";
import { describeImportError, type ImportErrorContext } from "./plugin_import_error.ts";

const context: ImportErrorContext = {
  url: new URL("file:///work/my-plugins/task_x.ts"),
  source: "my-plugins/task_x.ts",
  packages: ["amqplib", "commander", "yaml", "zod"],
  cwd: "/work",
};

/** Deno wraps import failures in a TypeError whose message carries the cause and its place. */
function importError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: "ERR_MODULE_NOT_FOUND" });
}

Deno.test("describeImportError() gives a syntax error as file:line:col", () => {
  const error = importError(
    "SyntaxError: Expression expected\n  |\n3 |   run() { return 1 +; },\n  |                     ~\n    at file:///work/my-plugins/task_x.ts:3:21",
  );
  assert.equal(
    describeImportError(error, context),
    "syntax error at my-plugins/task_x.ts:3:21: Expression expected",
  );
});

Deno.test("describeImportError() names the imported file where the syntax error is", () => {
  const error = importError(
    "SyntaxError: Expression expected\n  |\n1 | export const x = ;\n    at file:///work/my-plugins/lib/x.ts:1:18",
  );
  assert.equal(
    describeImportError(error, context),
    "syntax error at my-plugins/lib/x.ts:1:18: Expression expected",
  );
});

Deno.test("describeImportError() strips colour codes and names a missing import", () => {
  const error = importError(
    'Module not found "file:///work/my-plugins/missing.ts".\n    at \x1b[0m\x1b[36mfile:///work/my-plugins/task_x.ts\x1b[0m:\x1b[0m\x1b[33m1\x1b[0m:\x1b[0m\x1b[33m8\x1b[0m',
  );
  assert.equal(
    describeImportError(error, context),
    "imports my-plugins/missing.ts, which does not exist (at my-plugins/task_x.ts:1:8)",
  );
});

Deno.test("describeImportError() says an npm package outside dts's lockfile must be bundled", () => {
  const error = importError(
    'The lockfile is out of date. Run `deno install --frozen=false`, or rerun with `--frozen=false` to update it.\nchanges:\n  6\x1b[0m\x1b[38;5;245m |\x1b[0m \x1b[0m\x1b[1m\x1b[32m+\x1b[0m\x1b[0m\x1b[30m\x1b[42m    "npm:ms@2.1.3": "2.1.3",\x1b[0m',
  );
  const reason = describeImportError(error, context);
  assert.equal(
    reason,
    'imports npm:ms@2.1.3, which dts does not ship (dts never rewrites its own deno.lock); bundle the plugin with it (deno bundle; README "Plugins that use npm packages")',
  );
  assert.doesNotMatch(reason, /frozen=false/, "no advice to unfreeze dts's own lockfile");
});

Deno.test("describeImportError() says the same when the package's registry data was never fetched", () => {
  const error = importError(
    'Failed loading https://registry.npmjs.org/ms for package "ms"\n    at file:///work/my-plugins/task_x.ts:1:16',
  );
  assert.equal(
    describeImportError(error, context),
    'imports the npm package "ms" (at my-plugins/task_x.ts:1:16), which dts does not ship (dts never rewrites its own deno.lock); bundle the plugin with it (deno bundle; README "Plugins that use npm packages")',
  );
});

Deno.test("describeImportError() says a bare import is not one of dts's packages", () => {
  const error = importError(
    'Import "ms" not a dependency and not in import map from "file:///work/my-plugins/task_x.ts"\n  hint: If you want to use the npm package, try running `deno add npm:ms`\n    at file:///work/my-plugins/task_x.ts:1:16',
  );
  assert.equal(
    describeImportError(error, context),
    'imports "ms" (at my-plugins/task_x.ts:1:16), which is neither a file nor one of dts\'s own packages (amqplib, commander, yaml, zod); bundle the plugin with it (deno bundle; README "Plugins that use npm packages")',
  );
});

Deno.test("describeImportError() keeps any other first line", () => {
  assert.equal(describeImportError(new Error("boom\nmore"), context), "boom");
});
