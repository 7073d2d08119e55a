/**
 * The page bundles committed in src/ui/assets/ are what `deno task
 * ui:bundle` builds from src/ui/web/ now: a change to the page's source
 * without a rebuild fails here. (deno bundle runs esbuild from npm;
 * scripts/test fetches it first.)
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

for (
  const [entry, asset] of [
    ["dashboard_main.ts", "dashboard.js"],
    ["load_report_main.ts", "load_report.js"],
  ]
) {
  Deno.test(`src/ui/assets/${asset} is the bundle of src/ui/web/${entry} as it is now`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const task = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).tasks["ui:bundle"];
      assert.ok(task.includes(`-o src/ui/assets/${asset} src/ui/web/${entry}`), task);
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "bundle",
          "--frozen",
          "--quiet",
          "--minify",
          "--platform",
          "browser",
          "-o",
          `${dir}/${asset}`,
          `src/ui/web/${entry}`,
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const built = await Deno.readTextFile(`${dir}/${asset}`);
      const committed = await Deno.readTextFile(`${root}src/ui/assets/${asset}`);
      assert.ok(built === committed, `src/ui/assets/${asset} is stale: run deno task ui:bundle`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
