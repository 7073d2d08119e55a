/**
 * `worker.autoscale` (`--autoscale`, `DTS_AUTOSCALE`): the bounds of a
 * worker pool that follows the backlog, written as Celery writes them,
 * `MAX,MIN`, or as a map `{ min, max }`.
 *
 * Celery's order is max first; issue 11 wrote `MIN,MAX`. Both mean the
 * same, so the order does not matter: the smaller number is min. A single
 * number is the max with min 0, as in Celery (`--autoscale 10` is `10,0`).
 * @module
 */
import { z } from "zod";
import { isPlainObject } from "./deep_merge.ts";
import { wholeNumber } from "./schema_fields.ts";

/** The bounds of an autoscaling pool. */
export interface AutoscaleSetting {
  min: number;
  max: number;
}

/** The largest max: a consumer's prefetch follows the pool, and AMQP's prefetch is 16 bits. */
export const AUTOSCALE_MAX = 65_535;

const NUMBERS = /^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$/;

const SHAPE_MESSAGE = "must be MAX,MIN like 4,1 (two whole numbers, in either order)";

/** What is wrong with `text` as `MAX,MIN`, phrased to follow its name; null when nothing. */
export function autoscaleProblem(text: string): string | null {
  const match = NUMBERS.exec(text);
  if (match === null) return SHAPE_MESSAGE;
  const numbers = match.slice(1).filter((n) => n !== undefined).map(Number);
  const max = Math.max(...numbers);
  if (max < 1) return "must let at least 1 task run: the larger number (max) must be >= 1";
  if (max > AUTOSCALE_MAX) return `must have a max of at most ${AUTOSCALE_MAX}`;
  return null;
}

/**
 * Read `MAX,MIN` (or `MIN,MAX`, or `MAX` alone for `MAX,0`).
 * @throws {RangeError} when it is not one or two whole numbers with a max from 1 to 65535
 */
export function parseAutoscale(text: string): AutoscaleSetting {
  const problem = autoscaleProblem(text);
  if (problem !== null) throw new RangeError(`Cannot read autoscale "${text}": ${problem}`);
  const numbers = NUMBERS.exec(text)!.slice(1).filter((n) => n !== undefined).map(Number);
  return { min: numbers.length === 1 ? 0 : Math.min(...numbers), max: Math.max(...numbers) };
}

const boundsSchema = z.strictObject({
  min: wholeNumber(0).default(0).describe("Fewest slots; 0 is allowed. Default: 0 (as Celery)."),
  max: wholeNumber(1).max(AUTOSCALE_MAX).describe("Most slots; >= min. Required."),
}).superRefine((bounds, ctx) => {
  if (bounds.min > bounds.max) {
    ctx.addIssue({ code: "custom", path: ["max"], message: `must be >= min (${bounds.min})` });
  }
});

/** The schema of `worker.autoscale`: `"MAX,MIN"`, a number (`MAX`), or `{ min, max }`. */
export function autoscaleSchema(): z.ZodType<AutoscaleSetting, unknown> {
  return z.preprocess((value, ctx) => {
    if (typeof value === "string" || typeof value === "number") {
      const text = String(value);
      const problem = autoscaleProblem(text);
      if (problem === null) return parseAutoscale(text);
      ctx.addIssue({ code: "custom", message: problem, input: value });
      return z.NEVER;
    }
    if (!isPlainObject(value)) {
      ctx.addIssue({ code: "custom", message: `${SHAPE_MESSAGE}, or a map { min, max }` });
      return z.NEVER;
    }
    return value;
  }, boundsSchema) as z.ZodType<AutoscaleSetting, unknown>;
}
