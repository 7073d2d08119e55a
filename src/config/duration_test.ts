import assert from "node:assert/strict";
import { bareNumberHint, parseDuration } from "./duration.ts";

Deno.test("parseDuration() reads each unit as milliseconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
});

Deno.test("parseDuration() accepts fractions and surrounding spaces", () => {
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration(".5s"), 500);
  assert.equal(parseDuration(" 2 m "), 120_000);
  assert.equal(parseDuration("0.1h"), 360_000);
  assert.equal(parseDuration("1.4ms"), 1);
});

Deno.test("parseDuration() accepts a bare 0, which needs no unit", () => {
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("0s"), 0);
});

Deno.test("parseDuration() refuses a bare number and says what to write instead", () => {
  for (
    const [bare, hint] of [[60, "write 60s or 60000ms"], ["60", "write 60s or 60000ms"], [
      1.5,
      "write 1.5s or 1500ms",
    ], ["250", "write 250s or 250000ms"]] as const
  ) {
    assert.throws(
      () => parseDuration(bare),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message === `Cannot parse duration "${bare}": it has no unit; ${hint}`,
      String(bare),
    );
  }
});

Deno.test("parseDuration() throws a RangeError naming the bad text", () => {
  for (const bad of ["", "abc", "5 sec", "-1s", "1d", "1.s", "ms", "1e3"]) {
    assert.throws(
      () => parseDuration(bad),
      (error: unknown) =>
        error instanceof RangeError &&
        error.message ===
          `Cannot parse duration "${bad}": expected a number with a unit ms, s, m or h, e.g. 500ms, 30s or 2m`,
      bad,
    );
  }
});

Deno.test("parseDuration() rejects negative and non-finite numbers", () => {
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => parseDuration(bad), RangeError, String(bad));
  }
});

Deno.test("bareNumberHint() is null for anything but a bare non-zero number", () => {
  for (const value of ["60s", "abc", "", "0", 0, -5, "-5", Number.NaN]) {
    assert.equal(bareNumberHint(value), null, String(value));
  }
  assert.equal(bareNumberHint(" 7 "), "write 7s or 7000ms");
});
