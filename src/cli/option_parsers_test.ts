import assert from "node:assert/strict";
import { InvalidArgumentError } from "commander";
import { parseAutoscaleArg, parseDurationArg, parsePositiveDurationArg } from "./option_parsers.ts";

Deno.test("parseDurationArg() reads durations with a unit", () => {
  assert.equal(parseDurationArg("1.5s"), 1_500);
  assert.equal(parseDurationArg("0"), 0);
  assert.equal(parsePositiveDurationArg("250ms"), 250);
});

Deno.test("parseDurationArg() refuses a bare number and says what to write", () => {
  assert.throws(
    () => parseDurationArg("60"),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.message === '"60" has no unit: write 60s or 60000ms.',
  );
});

Deno.test("parseDurationArg() names a value that is no duration at all", () => {
  assert.throws(
    () => parseDurationArg("soon"),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.message === '"soon" is not a duration such as 500ms, 30s or 2m.',
  );
});

Deno.test("parseAutoscaleArg() keeps MAX,MIN as text for the config, and names a bad value", () => {
  assert.equal(parseAutoscaleArg(" 4,1 "), "4,1");
  assert.equal(parseAutoscaleArg("1,4"), "1,4");
  assert.throws(
    () => parseAutoscaleArg("four"),
    (error: unknown) =>
      error instanceof InvalidArgumentError &&
      error.message === '"four" must be MAX,MIN like 4,1 (two whole numbers, in either order).',
  );
});
