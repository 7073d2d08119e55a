import assert from "node:assert/strict";
import { saveResults } from "./results_file.ts";
import type { ResultsDocument } from "../report/results_document.ts";

const NOW = new Date(Date.UTC(2026, 10, 28, 9, 5, 7, 999));

const DOCUMENT: ResultsDocument = {
  name: "Basic two-task execution test",
  run_id: "20261128_090507-4f09a2",
  broker: "amqp://guest:***@localhost:5672/",
  expected_workers: 2,
  workers: ["worker-a@host"],
  started_at: "2026-11-28T09:05:07.000Z",
  finished_at: "2026-11-28T09:05:07.340Z",
  interrupted: false,
  total_ms: 340,
  sequential_ms: 106,
  tasks: [],
  summary: {
    succeeded: 0,
    failed: 0,
    interrupted: 0,
    skipped: 0,
    retries: 0,
    avg_ms: null,
    min_ms: null,
    max_ms: null,
  },
};

Deno.test("saveResults() writes pretty JSON named by the UTC time, creating the dir", async () => {
  const root = await Deno.makeTempDir({ prefix: "dts_results_" });
  try {
    const dir = `${root}/nested/results`;
    const path = await saveResults(DOCUMENT, { dir, now: NOW });
    assert.equal(path, `${dir}/dispatch_results_20261128_090507.json`);
    const text = await Deno.readTextFile(path);
    assert.equal(text, JSON.stringify(DOCUMENT, null, 2) + "\n");
    assert.deepEqual(JSON.parse(text), DOCUMENT);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("saveResults() appends _2, _3 instead of overwriting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dts_results_" });
  try {
    const first = await saveResults(DOCUMENT, { dir, now: NOW });
    const second = await saveResults({ ...DOCUMENT, name: "second" }, { dir: `${dir}/`, now: NOW });
    const third = await saveResults({ ...DOCUMENT, name: "third" }, { dir, now: NOW });
    assert.equal(second, `${dir}/dispatch_results_20261128_090507_2.json`);
    assert.equal(third, `${dir}/dispatch_results_20261128_090507_3.json`);
    assert.equal(JSON.parse(await Deno.readTextFile(first)).name, DOCUMENT.name);
    assert.equal(JSON.parse(await Deno.readTextFile(second)).name, "second");
    assert.equal(JSON.parse(await Deno.readTextFile(third)).name, "third");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("saveResults() uses the injected file functions", async () => {
  const written: { path: string; text: string; createNew?: boolean }[] = [];
  const made: string[] = [];
  const path = await saveResults(DOCUMENT, {
    dir: "out",
    now: NOW,
    mkdir: (dir) => {
      made.push(String(dir));
      return Promise.resolve();
    },
    writeTextFile: (file, data, options) => {
      written.push({ path: String(file), text: String(data), createNew: options?.createNew });
      return Promise.resolve();
    },
  });
  assert.equal(path, "out/dispatch_results_20261128_090507.json");
  assert.deepEqual(made, ["out"]);
  assert.equal(written.length, 1);
  assert.equal(written[0].createNew, true);
  assert.ok(written[0].text.endsWith("}\n"));
});

Deno.test("saveResults() passes other write errors on", async () => {
  await assert.rejects(
    saveResults(DOCUMENT, {
      dir: "out",
      now: NOW,
      mkdir: () => Promise.resolve(),
      writeTextFile: () => Promise.reject(new Deno.errors.PermissionDenied("read-only")),
    }),
    Deno.errors.PermissionDenied,
  );
});
