/**
 * Plugins that use npm packages, with dts on its frozen lockfile, offline
 * (every HTTP(S) request goes to a dead proxy), and dts's own deno.lock never
 * rewritten:
 * - dts's own packages work as they are (`npm:yaml@2.9.1`, or bare `yaml`);
 * - any other package: the plugin is bundled in its own folder, with its own
 *   deno.json and lockfile (`deno bundle`), into one module dts loads;
 * - a plugin importing a package dts does not ship is refused in one line
 *   that says to bundle it.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { runCli } from "../helpers/run_cli.ts";
import { spawnWorker, tempDir } from "../helpers/test_kit.ts";

const root = new URL("../../", import.meta.url).pathname;
const DEAD_PROXY = "http://127.0.0.1:1";
/** No network: a download would fail, so whatever works here came from the npm cache. */
const OFFLINE = {
  HTTPS_PROXY: DEAD_PROXY,
  HTTP_PROXY: DEAD_PROXY,
  https_proxy: DEAD_PROXY,
  http_proxy: DEAD_PROXY,
  NO_PROXY: "",
  no_proxy: "",
};

async function lockfile(): Promise<string> {
  return await Deno.readTextFile(`${root}deno.lock`);
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}

Deno.test("a plugin imports dts's own npm packages (npm:yaml@2.9.1 or bare yaml) offline on the frozen lockfile", async () => {
  await using plugins = await tempDir();
  await writeFiles(plugins.path, {
    "exact.ts": 'import { stringify } from "npm:yaml@2.9.1";\n' +
      'export default { name: "task_exact", run: () => stringify({ a: 1 }) };\n',
    "bare.ts": 'import { parse } from "yaml";\n' +
      'export default { name: "task_bare", run: () => parse("a: 1") };\n',
  });
  await using config = await tempDir();
  await Deno.writeTextFile(
    `${config.path}/c.yml`,
    "name: npm\ndispatch:\n  jobs: [ { task: exact }, { task: bare } ]\n",
  );
  const before = await lockfile();
  const run = await runCli(["config", "check", `${config.path}/c.yml`, "--plugins", plugins.path], {
    env: OFFLINE,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /: OK \("npm", 0 tasks, 2 jobs\)/);
  assert.equal(await lockfile(), before, "dts's deno.lock is not rewritten");
});

Deno.test("a plugin bundled in its own folder with an npm package from the cache runs in a dts worker offline", async () => {
  await using broker = await testBroker();
  const queue = testNamespace().queue("queue_yaml");
  await using source = await tempDir();
  await using plugins = await tempDir();
  // The plugin's own project: its deno.json names its packages; its lockfile is its own.
  await writeFiles(source.path, {
    "deno.json": '{ "imports": { "yaml": "npm:yaml@2.9.1" } }\n',
    "src/yaml_task.ts": 'import { stringify } from "yaml";\n' +
      "export default {\n" +
      '  name: "task_yaml",\n' +
      "  run: (ctx: { args: readonly unknown[] }) => stringify({ args: ctx.args }),\n" +
      "};\n",
  });
  const before = await lockfile();
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "-o",
      `${plugins.path}/yaml_task.js`,
      "src/yaml_task.ts",
    ],
    cwd: source.path,
    env: OFFLINE,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    bundle.code,
    0,
    `deno bundle (esbuild comes from the npm cache; scripts/test puts it there): ${
      new TextDecoder().decode(bundle.stderr)
    }`,
  );
  await using config = await tempDir();
  const configPath = `${config.path}/c.yml`;
  await Deno.writeTextFile(
    configPath,
    `name: bundled\ntasks:\n  yaml: { name: task_yaml, queue: ${queue} }\n` +
      "dispatch:\n  timeout: 20s\n  jobs: [ { task: yaml, args: [1, two] } ]\n",
  );
  try {
    const common = ["--config", configPath, "--plugins", plugins.path];
    await using _worker = await spawnWorker(["--task", "yaml", ...common], {
      brokerUrl: broker.url,
      env: OFFLINE,
    });
    const run = await runCli(["dispatch", ...common, "--output", "json", "--no-save"], {
      env: { ...OFFLINE, DTS_BROKER_URL: broker.url },
    });
    assert.equal(run.code, 0, run.stderr);
    const [task] = JSON.parse(run.stdout).tasks;
    assert.deepEqual([task.status, task.result], ["SUCCESS", "args:\n  - 1\n  - two\n"]);
    assert.equal(await lockfile(), before, "dts's deno.lock is not rewritten");
  } finally {
    await deleteQueues(broker.url, [queue]);
  }
});

Deno.test("a plugin importing an npm package dts does not ship is refused in one line that says to bundle it", async () => {
  await using plugins = await tempDir();
  await writeFiles(plugins.path, {
    "p.ts":
      'import ms from "npm:ms@2.1.3";\nexport default { name: "task_ms", run: () => ms(1000) };\n',
  });
  await using config = await tempDir();
  await Deno.writeTextFile(`${config.path}/c.yml`, "name: refused\n");
  const before = await lockfile();
  const run = await runCli(["config", "check", `${config.path}/c.yml`, "--plugins", plugins.path], {
    env: OFFLINE,
  });
  assert.equal(run.code, 2, run.stderr);
  // Which words Deno gives depends on whether its cache holds the registry's
  // data for "ms" (a fresh machine has none); the refusal is one line either way.
  const path = plugins.path.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(
    run.stderr,
    new RegExp(
      `^dts: Cannot load plugin "${path}/p\\.ts": imports (npm:ms@2\\.1\\.3|the npm package "ms" \\(at ${path}/p\\.ts:1:16\\)), which dts does not ship \\(dts never rewrites its own deno\\.lock\\); bundle the plugin with it \\(deno bundle; README "Plugins that use npm packages"\\)\n$`,
    ),
  );
  assert.equal(await lockfile(), before, "dts's deno.lock is not rewritten");
});
