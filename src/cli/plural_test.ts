import assert from "node:assert/strict";
import { plural } from "./plural.ts";

Deno.test("plural() uses the singular for exactly one and the plural otherwise", () => {
  assert.equal(plural(1, "problem"), "1 problem");
  assert.equal(plural(2, "problem"), "2 problems");
  assert.equal(plural(0, "job"), "0 jobs");
  assert.equal(plural(3, "dead letter"), "3 dead letters");
  assert.equal(plural(2, "entry", "entries"), "2 entries");
});
