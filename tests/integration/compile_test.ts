/**
 * The `compile` task as deno.json defines it: its module graph type-checks,
 * its permission set resolves, and the plugins and the seed config are
 * embedded. The real `denort` runtime cannot be downloaded here, so the deno
 * binary stands in for it (DENO_NOTES): the output is not run.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("deno task compile builds with the plugins, the seed config and the dts ui page embedded", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const words: string[] = config.tasks.compile.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "compile"]);
  for (
    const flag of [
      "--frozen",
      "-P=dts",
      "--no-prompt",
      "--include",
      "--exclude-unused-npm",
      // Plugin hosts are Web Workers given the plugin's own permissions.
      "--unstable-worker-options",
    ]
  ) {
    assert.ok(words.includes(flag), `compile task lacks ${flag}`);
  }
  const dir = await Deno.makeTempDir();
  try {
    const args = words.slice(1).map((word, i, all) =>
      all[i - 1] === "--output" ? `${dir}/dts` : word
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /plugins\/\*/);
    // The seed config (shown as config/* while it is the only file there).
    assert.match(text, /config\/(\*|test-config\.yml)/);
    assert.match(text, /host_main\.ts/, "the plugin host's Web Worker entry is embedded");
    // src/ui/assets/: the dts ui page's bundle and the load report's charts.
    assert.match(text, /─┬ ui [^\n]*\n[^\n]*assets\/\*/, "the page bundles are embedded");
    assert.doesNotMatch(
      text,
      /preact|uplot/,
      "the page's packages are in the bundle, not the binary",
    );
    assert.match(text, /src\b/);
    assert.doesNotMatch(text, /testcontainers/, "test-only packages stay out of the binary");
    assert.ok((await Deno.stat(`${dir}/dts`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
