/**
 * Parsers for commander options: a bad value is a usage error (exit 2) that
 * commander reports with the option's name.
 * @module
 */
import { InvalidArgumentError } from "commander";
import { autoscaleProblem } from "../config/autoscale_setting.ts";
import { bareNumberHint, parseDuration } from "../config/duration.ts";

/** A whole number >= 1. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`"${value}" is not a whole number >= 1.`);
  }
  return n;
}

/** A TCP port, 0 to 65535. */
/** `--priority`: an AMQP priority, 0..255. */
export function parsePriority(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 255) {
    throw new InvalidArgumentError(`"${value}" is not a priority (a whole number 0 to 255).`);
  }
  return n;
}

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

/** A duration such as `500ms`, `30s` or `2m`, in ms. */
export function parseDurationArg(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    const hint = bareNumberHint(value);
    throw new InvalidArgumentError(
      hint === null
        ? `"${value}" is not a duration such as 500ms, 30s or 2m.`
        : `"${value}" has no unit: ${hint}.`,
    );
  }
}

/** A duration above zero, in ms. */
export function parsePositiveDurationArg(value: string): number {
  const ms = parseDurationArg(value);
  if (ms <= 0) throw new InvalidArgumentError(`"${value}" is not a duration > 0.`);
  return ms;
}

/**
 * Autoscale bounds `MAX,MIN` (either order; `MAX` alone is `MAX,0`), kept as
 * text: the config reads it, so a flag and the file's value mean the same.
 */
export function parseAutoscaleArg(value: string): string {
  const problem = autoscaleProblem(value);
  if (problem !== null) throw new InvalidArgumentError(`"${value}" ${problem}.`);
  return value.trim();
}
