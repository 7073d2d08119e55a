import assert from "node:assert/strict";
import type { ProgramLocation } from "../program_location.ts";
import { createDenoLauncher, workerCommandLine } from "./deno_launcher.ts";

const spec = { key: "a", name: "worker-a-2@host1", healthPort: 0 };
const settings = { configPath: "config/x.yml", pluginDirs: ["p1", "/abs/p2"] };

Deno.test("workerCommandLine() runs the binary's worker command when compiled", () => {
  const program: ProgramLocation = {
    standalone: true,
    execPath: "/usr/local/bin/dts",
    mainModule: new URL("file:///virtual/src/main.ts"),
    denoConfig: new URL("file:///virtual/deno.json"),
  };
  assert.deepEqual(workerCommandLine({ ...spec, healthPort: 9101 }, { program, settings }), {
    command: "/usr/local/bin/dts",
    args: [
      "worker",
      "--task",
      "a",
      "--name",
      "worker-a-2@host1",
      "--health-port",
      "9101",
      "--config",
      "config/x.yml",
      "--plugins",
      "p1",
      "--plugins",
      "/abs/p2",
    ],
  });
});

Deno.test("workerCommandLine() runs src/main.ts with deno and the dts permission set from source", () => {
  const program: ProgramLocation = {
    standalone: false,
    execPath: "/opt/deno",
    mainModule: new URL("file:///repo%20x/src/main.ts"),
    denoConfig: new URL("file:///repo%20x/deno.json"),
  };
  assert.deepEqual(workerCommandLine(spec, { program }), {
    command: "/opt/deno",
    args: [
      "run",
      "--quiet",
      "--frozen",
      "--config=/repo x/deno.json",
      "-P=dts",
      "--no-prompt",
      "/repo x/src/main.ts",
      "worker",
      "--task",
      "a",
      "--name",
      "worker-a-2@host1",
      "--health-port",
      "0",
    ],
  });
});

Deno.test("createDenoLauncher() spawns the program in its own process group with the given env, and signals it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/fake_main.ts`;
    const out = `${dir}/out.json`;
    await Deno.writeTextFile(
      script,
      `Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
await Deno.writeTextFile(Deno.env.get("DTS_TEST_OUT")!, JSON.stringify(Deno.args));
setTimeout(() => {}, 60_000);`,
    );
    const launcher = createDenoLauncher({
      program: {
        standalone: false,
        execPath: Deno.execPath(),
        mainModule: new URL(`file://${script}`),
        denoConfig: new URL("../../deno.json", import.meta.url),
      },
      settings: { configPath: "c.yml", env: { DTS_TEST_OUT: out } },
    });
    const child = launcher.launch(spec);
    assert.ok(child.pid !== null && child.pid > 0);
    let args: string[] | null = null;
    for (let i = 0; i < 200 && args === null; i++) {
      try {
        args = JSON.parse(await Deno.readTextFile(out));
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    assert.deepEqual(args, [
      "worker",
      "--task",
      "a",
      "--name",
      "worker-a-2@host1",
      "--health-port",
      "0",
      "--config",
      "c.yml",
    ]);
    // Field 5 of /proc/<pid>/stat is the process group: its own, so Ctrl-C at a terminal skips it.
    const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`);
    const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    assert.equal(pgid, child.pid);
    child.kill("SIGTERM");
    assert.deepEqual(await child.exited, { code: 0, signal: null });
    child.kill("SIGKILL"); // after the end: a no-op, not a throw
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
