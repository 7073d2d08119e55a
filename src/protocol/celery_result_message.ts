/**
 * Task results as Celery's rpc:// backend sends them: one message per state
 * change to the client's reply queue (routing key = `reply_to` of the task),
 * body `{task_id, status, result, traceback, children}`, `correlation_id` = task id.
 * For FAILURE and RETRY, `result` is Celery's exception dict (`encodeException`).
 * @module
 */

import { type ErrorInfo, ProtocolError } from "../errors.ts";
import type { MessageProps } from "../transport/transport.ts";
import { decodeJsonBody, encodeJsonBody, JSON_CONTENT_TYPE, UTF8_ENCODING } from "./json_body.ts";
import { pyRepr } from "./py_repr.ts";

/** Celery's task states (`celery/states.py`). */
export type CeleryState =
  | "PENDING"
  | "RECEIVED"
  | "STARTED"
  | "RETRY"
  | "SUCCESS"
  | "FAILURE"
  | "REVOKED";

/** One result message, decoded. Optional fields are present only when on the wire. */
export interface ResultMessage {
  taskId: string;
  status: CeleryState;
  /** The return value; for FAILURE/RETRY the exception dict (see `decodeException`). */
  result: unknown;
  traceback: string | null;
  children: unknown[];
  /** ISO-8601; written as `date_done` only when not null (rpc:// leaves it out). */
  dateDone: string | null;
  // Celery's result_extended fields, which dts fills in and reads when present:
  name?: string | null;
  worker?: string | null;
  retries?: number | null;
  queue?: string | null;
  // dts additions (extra keys are ignored by Celery clients):
  runtimeMs?: number | null;
  receivedAt?: string | null;
  startedAt?: string | null;
  delayMs?: number | null;
}

/** Celery's exception encoding for JSON results (`backends/base.py` `prepare_exception`). */
export interface CeleryException {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string;
}

const STATES: ReadonlySet<string> = new Set<CeleryState>([
  "PENDING",
  "RECEIVED",
  "STARTED",
  "RETRY",
  "SUCCESS",
  "FAILURE",
  "REVOKED",
]);

/** Optional fields: camelCase name → wire key, and the JS type a wire value must have. */
const OPTIONAL_FIELDS = [
  ["name", "name", "string"],
  ["worker", "worker", "string"],
  ["retries", "retries", "number"],
  ["queue", "queue", "string"],
  ["runtimeMs", "runtime_ms", "number"],
  ["receivedAt", "received_at", "string"],
  ["startedAt", "started_at", "string"],
  ["delayMs", "delay_ms", "number"],
] as const;

/** Encode a result as Celery's rpc:// backend does: transient, priority 0, empty headers. */
export function encodeResultMessage(
  result: ResultMessage,
): { body: Uint8Array; props: MessageProps } {
  const wire: Record<string, unknown> = {
    task_id: result.taskId,
    status: result.status,
    result: result.result,
    traceback: result.traceback,
    children: result.children,
  };
  if (result.dateDone !== null) wire.date_done = result.dateDone;
  for (const [field, key] of OPTIONAL_FIELDS) {
    if (result[field] !== undefined) wire[key] = result[field];
  }
  const props: MessageProps = {
    headers: {},
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: UTF8_ENCODING,
    correlationId: result.taskId,
    priority: 0,
    persistent: false,
  };
  return { body: encodeJsonBody(wire), props };
}

/**
 * Decode an rpc:// result message. Unknown keys are ignored; an optional field of
 * the wrong type is left out.
 * @throws {ProtocolError} for a body that is not JSON, not an object, or lacks a task id or known status
 */
export function decodeResultMessage(body: Uint8Array, props: MessageProps): ResultMessage {
  const wire = decodeJsonBody(body, props, Infinity);
  if (typeof wire !== "object" || wire === null || Array.isArray(wire)) {
    fail(`body must be an object, got ${Array.isArray(wire) ? "an array" : String(wire)}`);
  }
  const record = wire as Record<string, unknown>;
  const taskId = typeof record.task_id === "string" ? record.task_id : props.correlationId;
  if (!taskId) fail('"task_id" is missing');
  const status = record.status;
  if (typeof status !== "string" || !STATES.has(status)) {
    fail(`"status" must be a Celery state, got ${JSON.stringify(status)}`);
  }
  const traceback = record.traceback;
  if (traceback !== undefined && traceback !== null && typeof traceback !== "string") {
    fail(`"traceback" must be a string or null, got ${typeof traceback}`);
  }
  const children = record.children ?? [];
  if (!Array.isArray(children)) fail(`"children" must be an array, got ${typeof children}`);
  const result: ResultMessage = {
    taskId,
    status: status as CeleryState,
    result: record.result ?? null,
    traceback: traceback ?? null,
    children,
    dateDone: typeof record.date_done === "string" ? record.date_done : null,
  };
  for (const [field, key, type] of OPTIONAL_FIELDS) {
    const value = record[key];
    if (value === null || typeof value === type) {
      (result as unknown as Record<string, unknown>)[field] = value;
    }
  }
  return result;
}

function fail(reason: string): never {
  throw new ProtocolError(`Cannot decode result message: ${reason}`);
}

/**
 * Python's built-in exception classes that take a message as their only argument.
 * A JS error of one of these names is sent as `builtins.<name>`, so Celery's client
 * re-raises the real class (`except ValueError` works there).
 */
const PYTHON_BUILTIN_EXCEPTIONS: ReadonlySet<string> = new Set([
  "Exception",
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BlockingIOError",
  "BrokenPipeError",
  "BufferError",
  "ChildProcessError",
  "ConnectionAbortedError",
  "ConnectionError",
  "ConnectionRefusedError",
  "ConnectionResetError",
  "EOFError",
  "FileExistsError",
  "FileNotFoundError",
  "FloatingPointError",
  "ImportError",
  "IndexError",
  "InterruptedError",
  "IsADirectoryError",
  "KeyError",
  "LookupError",
  "MemoryError",
  "ModuleNotFoundError",
  "NameError",
  "NotADirectoryError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PermissionError",
  "ProcessLookupError",
  "RecursionError",
  "ReferenceError",
  "RuntimeError",
  "SyntaxError",
  "SystemError",
  "TimeoutError",
  "TypeError",
  "UnboundLocalError",
  "UnicodeError",
  "ValueError",
  "ZeroDivisionError",
]);

/** Module named for JS errors that are not Python built-ins. */
const DTS_ERROR_MODULE = "dts.errors";

/**
 * Encode an error as Celery's `{exc_type, exc_message, exc_module}`.
 *
 * Why these modules: Celery 5.2's client (`backends/base.py` `exception_to_python`)
 * looks the class up as `sys.modules[exc_module].<exc_type>`; if the module is not
 * imported or lacks the name, it makes a fresh `Exception` subclass named `exc_type`
 * (`create_exception_cls`); then it raises `cls(*exc_message)`. So:
 * - a Python built-in exception name goes out as `builtins`: the real class is
 *   raised and `except ValueError:` works in Python;
 * - any other name goes out under `dts.errors`, a module no Python process has:
 *   `AsyncResult.get()` raises a made-up class with the JS error's name and message.
 *   Not `builtins` for those: a JS name that happens to be a non-exception built-in
 *   (`print`, `eval`) would make Celery raise SecurityError instead.
 * An explicit `error.module` (e.g. decoded from Celery) is kept as given.
 */
export function encodeException(error: ErrorInfo): CeleryException {
  const module = error.module ??
    (PYTHON_BUILTIN_EXCEPTIONS.has(error.type) ? "builtins" : DTS_ERROR_MODULE);
  return { exc_type: error.type, exc_message: [error.message], exc_module: module };
}

/**
 * Turn Celery's exception dict back into `ErrorInfo`; the message is what Python's
 * `str(exception)` shows. Tolerates other shapes: a string, a dts `ErrorInfo`-like object, anything.
 */
export function decodeException(value: unknown): ErrorInfo {
  if (typeof value === "string") return { type: "Exception", message: value };
  if (typeof value !== "object" || value === null) {
    return {
      type: "Exception",
      message: value === undefined || value === null ? "" : String(value),
    };
  }
  const record = value as Record<string, unknown>;
  if (typeof record.exc_type === "string") {
    const info: ErrorInfo = { type: record.exc_type, message: pythonStr(record.exc_message) };
    if (typeof record.exc_module === "string") info.module = record.exc_module;
    return info;
  }
  if (typeof record.type === "string" && typeof record.message === "string") {
    const info: ErrorInfo = { type: record.type, message: record.message };
    if (typeof record.stack === "string") info.stack = record.stack;
    if (typeof record.module === "string") info.module = record.module;
    return info;
  }
  return { type: "Exception", message: pyRepr(value) };
}

/** Python's `str(exc)` for `exc.args`: "" for none, `str(arg)` for one, the tuple repr for more. */
function pythonStr(args: unknown): string {
  if (!Array.isArray(args)) {
    return typeof args === "string" ? args : args == null ? "" : pyRepr(args);
  }
  if (args.length === 0) return "";
  if (args.length === 1) return typeof args[0] === "string" ? args[0] : pyRepr(args[0]);
  return `(${args.map((arg) => pyRepr(arg)).join(", ")})`;
}
