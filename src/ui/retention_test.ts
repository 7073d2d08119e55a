import assert from "node:assert/strict";
import { parseRetention } from "./retention.ts";

Deno.test("parseRetention() reads days and the usual durations, refuses 0", () => {
  assert.equal(parseRetention("7d"), 7 * 24 * 3_600_000);
  assert.equal(parseRetention("12h"), 12 * 3_600_000);
  assert.equal(parseRetention("30m"), 30 * 60_000);
  assert.throws(() => parseRetention("0"), RangeError);
  assert.throws(() => parseRetention("7"), RangeError);
});
