import assert from "node:assert/strict";
import { parseYaml } from "./yaml_lines.ts";

const TEXT = [
  "# comment", // 1
  "name: x", // 2
  "tasks:", // 3
  "  a:", // 4
  "    retry: { factor: 0 }", // 5
  "list:", // 6
  "  - one: 1", // 7
  "  - two: 2", // 8
  "    three: &t 3", // 9
  "alias: *t", // 10
].join("\n");

Deno.test("parseYaml() returns the document as plain data", () => {
  const parsed = parseYaml(TEXT);
  assert.deepEqual(parsed.issues, []);
  assert.equal(parsed.broken, false);
  assert.deepEqual(parsed.value, {
    name: "x",
    tasks: { a: { retry: { factor: 0 } } },
    list: [{ one: 1 }, { two: 2, three: 3 }],
    alias: 3,
  });
});

Deno.test("parseYaml() lineOf() finds the line of a key, a list item and a nested key", () => {
  const { lineOf } = parseYaml(TEXT);
  assert.equal(lineOf(["name"]), 2);
  assert.equal(lineOf(["tasks", "a", "retry", "factor"]), 5);
  assert.equal(lineOf(["list", 1]), 8);
  assert.equal(lineOf(["list", 1, "three"]), 9);
  assert.equal(lineOf(["alias"]), 10);
});

Deno.test("parseYaml() lineOf() falls back to the nearest existing parent", () => {
  const { lineOf } = parseYaml(TEXT);
  assert.equal(lineOf(["tasks", "a", "queue"]), 4);
  assert.equal(lineOf(["list", 5, "x"]), 6);
  assert.equal(lineOf(["missing"]), 2);
  assert.equal(lineOf([]), 2);
});

Deno.test("parseYaml() gives an empty document no value and no lines", () => {
  for (const text of ["", "# only a comment\n"]) {
    const parsed = parseYaml(text);
    assert.equal(parsed.value, undefined);
    assert.deepEqual(parsed.issues, []);
    assert.equal(parsed.lineOf(["name"]), undefined);
  }
});

Deno.test("parseYaml() reports a duplicate key by path and line but keeps the value", () => {
  const parsed = parseYaml("name: x\nlist:\n  - a: 1\n    a: 2\n");
  assert.deepEqual(parsed.issues, [
    { path: "list[0].a", message: "is given more than once (duplicate key)", line: 4 },
  ]);
  assert.equal(parsed.broken, false);
  assert.ok(parsed.value !== undefined);
});

Deno.test("parseYaml() reports syntax errors with lines and marks the document broken", () => {
  const parsed = parseYaml("name: x\nbad: [1, 2\n");
  assert.equal(parsed.broken, true);
  assert.equal(parsed.value, undefined);
  assert.ok(parsed.issues.length >= 1);
  for (const issue of parsed.issues) {
    assert.equal(issue.path, "");
    assert.match(issue.message, /^YAML syntax error: \S/);
    assert.doesNotMatch(issue.message, /\n/);
    assert.equal(typeof issue.line, "number");
  }
});

Deno.test("parseYaml() refuses an alias bomb", () => {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 0; i < 8; i++) {
    const prev = String.fromCharCode(97 + i);
    const next = String.fromCharCode(98 + i);
    lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  }
  const parsed = parseYaml(lines.join("\n"));
  assert.equal(parsed.broken, true);
  assert.match(parsed.issues[0].message, /^YAML syntax error: /);
});

Deno.test("parseYaml() points an unclosed [ at the line it opened on, not past the file's end", () => {
  const parsed = parseYaml("name: x\nbad: [1, 2\nc: 3\n");
  assert.deepEqual(parsed.issues, [
    { path: "", message: 'YAML syntax error: "[" is not closed with "]"', line: 2 },
  ]);
});

Deno.test("parseYaml() points an unclosed { at its line when the next key follows", () => {
  const parsed = parseYaml("name: x\ntasks:\n  a: { name: task_a\n  b: {}\n");
  assert.deepEqual(parsed.issues, [
    { path: "", message: 'YAML syntax error: "{" is not closed with "}"', line: 3 },
  ]);
});

Deno.test("parseYaml() picks the innermost unclosed [ and ignores [ inside a plain scalar", () => {
  const parsed = parseYaml("a: ok[1]\nb: [1,\n  [2, 3]\n");
  assert.equal(parsed.issues.length, 1);
  assert.equal(parsed.issues[0].line, 2);
});
