import assert from "node:assert/strict";
import { jsonResultProblem, MAX_RESULT_DEPTH } from "./json_result.ts";

Deno.test("jsonResultProblem() passes what JSON stores unchanged", () => {
  for (
    const [i, value] of [
      undefined,
      null,
      "Hello from Task A",
      0,
      -1.5,
      true,
      [1, "two", null, [3]],
      { a: 1, nested: { b: [true] }, skipped: undefined },
      Object.assign(Object.create(null), { bare: 1 }),
      new Date(0),
      { at: new Date(0) },
    ].entries()
  ) {
    assert.equal(jsonResultProblem(value), null, `case ${i}`);
  }
});

Deno.test("jsonResultProblem() names what JSON would silently change, and where", () => {
  assert.equal(
    jsonResultProblem(new Map([[1, 2]])),
    "result is a Map, which JSON would store as {} or as its fields only",
  );
  assert.match(String(jsonResultProblem({ tags: new Set(["a"]) })), /^result\.tags is a Set/);
  assert.equal(jsonResultProblem({ f() {} }), "result.f is a function, which JSON would drop");
  assert.equal(jsonResultProblem([1, () => 2]), "result[1] is a function, which JSON would drop");
  assert.equal(
    jsonResultProblem({ n: Number.NaN }),
    "result.n is NaN, which JSON would store as null",
  );
  assert.equal(
    jsonResultProblem({ n: Infinity }),
    "result.n is Infinity, which JSON would store as null",
  );
  assert.equal(
    jsonResultProblem([undefined]),
    "result[0] is undefined, which JSON cannot hold here",
  );
  assert.equal(jsonResultProblem(10n), "result is a BigInt, which JSON cannot hold");
  assert.equal(
    jsonResultProblem({ s: Symbol("x") }),
    "result.s is a symbol, which JSON would drop",
  );
  assert.match(String(jsonResultProblem({ "a b": /x/ })), /^result\["a b"\] is a RegExp/);
  class Point {
    x = 1;
  }
  assert.match(String(jsonResultProblem(new Point())), /^result is a Point/);
  assert.match(String(jsonResultProblem(new Error("e"))), /^result is a Error/);
});

Deno.test("jsonResultProblem() refuses cycles and too-deep nesting without overflowing the stack", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.equal(jsonResultProblem(cyclic), "result.self refers back to itself (a cycle)");
  const shared = { x: 1 };
  assert.equal(jsonResultProblem([shared, shared]), null, "the same object twice is not a cycle");
  let deep: unknown[] = [];
  const root = deep;
  for (let i = 0; i < 100_000; i++) {
    const next: unknown[] = [];
    deep.push(next);
    deep = next;
  }
  assert.match(
    String(jsonResultProblem(root)),
    new RegExp(`nests deeper than ${MAX_RESULT_DEPTH}`),
  );
});

Deno.test("jsonResultProblem() survives hostile objects: throwing getters, toJSON and proxies", () => {
  const getter = Object.defineProperty({}, "boom", {
    enumerable: true,
    get() {
      throw new Error("no");
    },
  });
  assert.equal(jsonResultProblem(getter), "result cannot be read");
  assert.equal(
    jsonResultProblem({
      toJSON() {
        throw new TypeError("no");
      },
    }),
    "result.toJSON() threw TypeError",
  );
  const proxy = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
  });
  assert.equal(jsonResultProblem(proxy), "result cannot be read");
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  assert.equal(jsonResultProblem(revocable.proxy), "result cannot be read");
});
