/**
 * Number parsers for commander options: a bad value is a usage error that names it.
 * @module
 */
import { InvalidArgumentError } from "commander";

/** A whole number >= 1. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`"${value}" is not a whole number >= 1.`);
  }
  return n;
}

/** A TCP port, 0 to 65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port number (0 to 65535).`);
  }
  return n;
}

/** A number > 0 (rates, seconds). */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a number > 0.`);
  }
  return n;
}
