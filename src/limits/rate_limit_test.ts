import assert from "node:assert/strict";
import { parseRateLimit } from "./rate_limit.ts";

Deno.test("parseRateLimit reads per second, minute and hour, and a bare number as per second", () => {
  assert.deepEqual(parseRateLimit("20/s"), { text: "20/s", perSecond: 20, burst: 2 });
  assert.equal(parseRateLimit("120/m").perSecond, 2);
  assert.equal(parseRateLimit(" 3600 / h ").perSecond, 1);
  assert.equal(parseRateLimit(" 3600 / h ").text, "3600/h");
  assert.deepEqual(parseRateLimit(5), { text: "5/s", perSecond: 5, burst: 1 });
  assert.equal(parseRateLimit("0.5/s").perSecond, 0.5);
  assert.equal(parseRateLimit("7").text, "7/s");
});

Deno.test("parseRateLimit gives a burst of about 100 ms worth, at least 1", () => {
  assert.equal(parseRateLimit("1/h").burst, 1);
  assert.equal(parseRateLimit("9/s").burst, 1);
  assert.equal(parseRateLimit("1000/s").burst, 100);
});

Deno.test("parseRateLimit refuses what it cannot read, naming the value and the forms", () => {
  for (const bad of ["20/d", "fast", "-1/s", "1e3/s", ""]) {
    assert.throws(() => parseRateLimit(bad), (error: unknown) => {
      return error instanceof RangeError && error.message.includes(`"${bad}"`) &&
        error.message.includes("N/s");
    }, bad);
  }
  assert.throws(() => parseRateLimit("0/s"), /above 0/);
  assert.throws(() => parseRateLimit(0), /above 0/);
  assert.throws(() => parseRateLimit("20000/s"), /at most 10000\/s/);
});
