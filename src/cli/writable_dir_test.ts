import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { ensureWritableDir } from "./writable_dir.ts";

Deno.test("ensureWritableDir() creates a missing folder and leaves nothing in it", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/a/b`;
    await ensureWritableDir(dir, "save results");
    assert.ok((await Deno.stat(dir)).isDirectory);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureWritableDir() names the file that stands where a folder must be", async () => {
  const file = await Deno.makeTempFile();
  try {
    await assert.rejects(
      ensureWritableDir(`${file}/sub`, "save results"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message === `Cannot save results in "${file}/sub": "${file}" is a file, not a folder`,
    );
  } finally {
    await Deno.remove(file);
  }
});
