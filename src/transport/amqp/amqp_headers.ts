/**
 * Header typing that Celery's py-amqp reads exactly. amqplib guesses the
 * narrowest integer type (`b`, `s`), which py-amqp misreads or cannot decode;
 * Celery itself writes `I` for ints and `d` for floats. So every number is
 * wrapped in amqplib's `{"!": type, value}` form before publishing.
 * @module
 */

import { Buffer } from "node:buffer";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_LIMIT = 2 ** 63;

/** An amqplib explicitly typed field value. */
export interface TypedFieldValue {
  "!": "int" | "long" | "double";
  value: number;
}

/**
 * Type every number in a header table the way Celery does: `int` (AMQP `I`)
 * for integers in int32 range, `long` (`l`) for other integers, `double`
 * (`d`) otherwise; recursively inside arrays and nested tables. Values that
 * are already typed (`{"!": …}`, e.g. timestamps in `x-death`) pass through.
 */
export function toAmqpHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value !== undefined) table[key] = toFieldValue(value);
  }
  return table;
}

function toFieldValue(value: unknown): unknown {
  switch (typeof value) {
    case "number":
      return typeNumber(value);
    case "bigint":
      return { "!": "long", value: Number(value) };
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) {
        return value.map((item) => item === undefined ? null : toFieldValue(item));
      }
      if (Buffer.isBuffer(value)) return value;
      if (value instanceof Uint8Array) {
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
      if (Object.hasOwn(value, "!")) return value;
      return toAmqpHeaders(value as Record<string, unknown>);
    case "undefined":
      return null;
    default:
      return value;
  }
}

function typeNumber(value: number): TypedFieldValue {
  if (Number.isInteger(value)) {
    if (value >= INT32_MIN && value <= INT32_MAX) return { "!": "int", value };
    if (Math.abs(value) < INT64_LIMIT) return { "!": "long", value };
  }
  return { "!": "double", value };
}
