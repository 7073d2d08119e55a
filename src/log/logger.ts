/**
 * Structured logs (SPEC "Logs"): one JSON object per line, or readable lines.
 * Every line has `ts`, `level`, `msg`; secrets never appear.
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import { redactText } from "./redact.ts";

/** Severity of a log line, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Writes log lines; `child` adds fields to every line it writes. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to each line (its own fields win over the parent's). */
  child(fields: Record<string, unknown>): Logger;
}

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** `json`: one object per line; `pretty`: `HH:MM:SS.mmm LEVEL msg key=value`. */
  format: "json" | "pretty";
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Receives one line at a time, without the trailing newline. */
  write: (line: string) => void;
  /** @default the system clock */
  clock?: Clock;
  /** Colour the level in `pretty` lines. @default false */
  color?: boolean;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const LEVEL_COLOR: Record<LogLevel, string> = {
  debug: "\x1b[2m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
const RESET = "\x1b[0m";
const RESERVED_KEYS = new Set(["ts", "level", "msg"]);
const SECRET_KEY = /pass(word|wd)?$|secret|token|authorization|api[_-]?key|credential/i;
const MAX_DEPTH = 6;

/** Is `value` one of the four level names? */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && Object.hasOwn(LEVEL_RANK, value);
}

/** Create a logger writing lines through `options.write`. A failing `write` is ignored. */
export function createLogger(options: LoggerOptions): Logger {
  const clock = options.clock ?? systemClock;
  const threshold = LEVEL_RANK[options.level];
  if (threshold === undefined) {
    throw new RangeError(`Cannot create logger: unknown level "${String(options.level)}"`);
  }
  const format = options.format === "pretty" ? formatPretty : formatJson;
  const color = options.color ?? false;

  function make(base: Record<string, unknown>): Logger {
    const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
      if (LEVEL_RANK[level] < threshold) return;
      const merged = fields === undefined ? base : { ...base, ...fields };
      let line: string;
      try {
        line = format(clock.now(), level, msg, merged, color);
      } catch {
        line = format(
          clock.now(),
          level,
          msg,
          { log_error: "fields could not be formatted" },
          color,
        );
      }
      try {
        options.write(line);
      } catch {
        // A log line must never take the program down with it.
      }
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  }
  return make({});
}

/** A logger that writes nothing. */
export const silentLogger: Logger = Object.freeze({
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
  child(): Logger {
    return silentLogger;
  },
});

function formatJson(
  now: number,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown>,
): string {
  const record: Record<string, unknown> = {
    ts: new Date(now).toISOString(),
    level,
    msg: redactText(String(msg)),
  };
  for (const [key, value] of Object.entries(fields)) {
    const name = RESERVED_KEYS.has(key) ? `field_${key}` : key;
    record[name] = sanitizeField(key, value);
  }
  return JSON.stringify(record);
}

function formatPretty(
  now: number,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown>,
  color: boolean,
): string {
  const label = level.toUpperCase().padEnd(5);
  const parts = [timeOfDay(now), color ? `${LEVEL_COLOR[level]}${label}${RESET}` : label];
  parts.push(redactText(String(msg)));
  for (const [key, value] of Object.entries(fields)) {
    parts.push(`${key}=${prettyValue(sanitizeField(key, value))}`);
  }
  return parts.join(" ");
}

function prettyValue(value: unknown): string {
  if (typeof value === "string") {
    return value !== "" && !/[\s"=]/.test(value) ? value : JSON.stringify(value);
  }
  if (value === undefined) return "undefined";
  return JSON.stringify(value);
}

/** Local time of day as `HH:MM:SS.mmm`. */
function timeOfDay(now: number): string {
  const d = new Date(now);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}

function sanitizeField(key: string, value: unknown): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null && value !== "") return "***";
  return sanitize(value, 0, new Set());
}

/** Make a value JSON-safe: errors as `{type, message}`, strings redacted, cycles cut. */
function sanitize(value: unknown, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case "string":
      return redactText(value);
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
      return value;
    case "bigint":
      return value.toString();
    case "undefined":
      return undefined;
    case "symbol":
    case "function":
      return String(value);
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Error) {
    return { type: object.name || "Error", message: redactText(String(object.message)) };
  }
  if (object instanceof Date) {
    return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
  }
  if (object instanceof URL) return redactText(object.href);
  if (seen.has(object)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Object]";
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item) => sanitize(item, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) {
      out[key] = SECRET_KEY.test(key) && item !== undefined && item !== null && item !== ""
        ? "***"
        : sanitize(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(object);
  }
}
