import assert from "node:assert/strict";
import { runCommandOfCompileTask, wrapperScript } from "./run_mode_wrapper.ts";

Deno.test("runCommandOfCompileTask() keeps run flags and drops what only shapes the binary", () => {
  const command = runCommandOfCompileTask(
    "deno compile --frozen --unstable-worker-options -P=dts --no-prompt --include plugins/ " +
      "--include=config/x.yml --exclude-unused-npm --node-modules-dir=none --output dist/dts " +
      "-o=dist/dts src/main.ts",
  );
  assert.deepEqual(command, {
    flags: [
      "--frozen",
      "--unstable-worker-options",
      "-P=dts",
      "--no-prompt",
      "--node-modules-dir=none",
    ],
    entry: "src/main.ts",
    args: [],
  });
});

Deno.test("runCommandOfCompileTask() keeps the arguments a task bakes in after the entry point", () => {
  const command = runCommandOfCompileTask("deno compile -A src/main.ts worker --task a");
  assert.deepEqual(command, {
    flags: ["-A"],
    entry: "src/main.ts",
    args: ["worker", "--task", "a"],
  });
});

Deno.test("runCommandOfCompileTask() refuses what it cannot read safely", () => {
  assert.throws(() => runCommandOfCompileTask("deno run src/main.ts"), TypeError);
  assert.throws(() => runCommandOfCompileTask("deno compile --frozen"), /no entry point/);
  assert.throws(() => runCommandOfCompileTask(`deno compile --include "a b" x.ts`), /quoting/);
});

Deno.test("wrapperScript() runs the entry point from the app folder with the caller's arguments", () => {
  const script = wrapperScript({ flags: ["-P=dts"], entry: "src/main.ts", args: [] }, "/opt/dts");
  assert.match(script, /^#!\/bin\/bash\n/);
  assert.match(
    script,
    /\nexec "\$app\/bin\/deno" run --quiet -P=dts --config="\$app\/deno.json" "\$app\/src\/main.ts" "\$@"$/,
  );
  assert.match(script, /\napp=\/opt\/dts\n/);
});
