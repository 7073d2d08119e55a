import assert from "node:assert/strict";
import { BatchedOutput } from "./batched_output.ts";

function harness(maxChars?: number) {
  const writes: string[] = [];
  const turns: (() => void)[] = [];
  const output = new BatchedOutput((bytes) => writes.push(new TextDecoder().decode(bytes)), {
    maxChars,
    schedule: (flush) => turns.push(flush),
  });
  return { output, writes, turns };
}

Deno.test("BatchedOutput writes one turn's text in one write, in order", () => {
  const { output, writes, turns } = harness();
  output.write("a\n");
  output.write("b\n");
  output.write("c\n");
  assert.deepEqual(writes, [], "nothing leaves before the turn ends");
  assert.equal(turns.length, 1, "one flush scheduled per turn");
  turns.shift()!();
  assert.deepEqual(writes, ["a\nb\nc\n"]);
  output.write("d\n");
  assert.equal(turns.length, 1, "the next turn schedules again");
  turns.shift()!();
  assert.deepEqual(writes, ["a\nb\nc\n", "d\n"]);
});

Deno.test("BatchedOutput flushes at once past maxChars, and on flush()", () => {
  const { output, writes, turns } = harness(10);
  output.write("12345");
  output.write("67890");
  assert.deepEqual(writes, ["1234567890"], "not held past maxChars");
  output.write("x");
  output.flush();
  assert.deepEqual(writes, ["1234567890", "x"]);
  assert.equal(output.waiting, 0);
  // The flush scheduled earlier finds nothing left to write.
  for (const turn of turns) turn();
  assert.equal(writes.length, 2);
});

Deno.test("BatchedOutput swallows a failing write and goes on with the next batch", () => {
  let fail = true;
  const writes: string[] = [];
  const output = new BatchedOutput((bytes) => {
    if (fail) throw new Error("stream closed");
    writes.push(new TextDecoder().decode(bytes));
  }, { schedule: () => {} });
  output.write("lost\n");
  output.flush();
  fail = false;
  output.write("kept\n");
  output.flush();
  assert.deepEqual(writes, ["kept\n"]);
});

Deno.test("BatchedOutput encodes non-ASCII text whole across writes", () => {
  const { output, writes } = harness();
  output.write("é");
  output.write("✓\n");
  output.flush();
  assert.deepEqual(writes, ["é✓\n"]);
});
