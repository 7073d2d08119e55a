import assert from "node:assert/strict";
import { canvasFeatures } from "./canvas_features.ts";

Deno.test("canvasFeatures() names what a message's embed asks for, not what is empty", () => {
  assert.deepEqual(
    canvasFeatures({ callbacks: null, errbacks: null, chain: null, chord: null }),
    [],
  );
  assert.deepEqual(canvasFeatures({ callbacks: [], errbacks: [], chain: [], chord: null }), []);
  assert.deepEqual(
    canvasFeatures({
      callbacks: [{ task: "b" }],
      errbacks: [{ task: "e" }],
      chain: [{ task: "c" }],
      chord: { task: "x" },
    }),
    ["chain", "callbacks", "errbacks", "chord"],
  );
});
