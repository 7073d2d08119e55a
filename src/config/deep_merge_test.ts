import assert from "node:assert/strict";
import { deepMerge, isPlainObject } from "./deep_merge.ts";

Deno.test("deepMerge() lets later layers win and merges maps key by key", () => {
  const file = { name: "f", worker: { concurrency: 1, health_port: 80 }, tasks: { a: {} } };
  const env = { worker: { concurrency: 2 } };
  const flags = { worker: { health_port: 90 }, results: { dir: "r" } };
  assert.deepEqual(deepMerge(file, env, flags), {
    name: "f",
    worker: { concurrency: 2, health_port: 90 },
    tasks: { a: {} },
    results: { dir: "r" },
  });
  assert.deepEqual(file.worker, { concurrency: 1, health_port: 80 }, "inputs stay unchanged");
});

Deno.test("deepMerge() replaces lists and never writes undefined", () => {
  assert.deepEqual(
    deepMerge({ jobs: [1, 2], dir: "x" }, { jobs: [3], dir: undefined }),
    { jobs: [3], dir: "x" },
  );
});

Deno.test("deepMerge() keeps a non-map value that a map would replace", () => {
  assert.deepEqual(deepMerge({ worker: 3 }, { worker: { concurrency: 2 } }), { worker: 3 });
  assert.deepEqual(deepMerge({ worker: null }, { worker: { concurrency: 2 } }), {
    worker: { concurrency: 2 },
  });
});

Deno.test("deepMerge() keeps __proto__ as an ordinary key", () => {
  const layer = JSON.parse('{"__proto__": {"polluted": true}}');
  const merged = deepMerge(layer);
  assert.deepEqual(Object.keys(merged), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(merged), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("isPlainObject() is true only for plain maps", () => {
  assert.equal(isPlainObject({}), true);
  assert.equal(isPlainObject(Object.create(null)), true);
  for (const value of [null, [], new Date(), "x", 1, undefined]) {
    assert.equal(isPlainObject(value), false, String(value));
  }
});
