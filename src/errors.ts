/**
 * Error classes, one per condition. `main.ts` maps each to an exit code
 * (SPEC: 1 task failed, 2 bad usage or config, 3 broker unreachable).
 * Match with `instanceof`, never by message.
 * @module
 */

/** Base of every error dts reports to a user; `exitCode` is what the CLI exits with. */
export class DtsError extends Error {
  /** Process exit code when this error ends a command. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DtsError";
  }
}

/** At least one dispatched task ended in FAILURE or TIMEOUT. */
export class TaskFailedError extends DtsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TaskFailedError";
  }
}

/** The command line was wrong: unknown option, missing value, unknown task. */
export class UsageError extends DtsError {
  override readonly exitCode: number = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** One problem found in a config file, with where it is. */
export interface ConfigIssue {
  /** Dotted path into the document, e.g. `tasks.a.retry.factor`; empty for the root. */
  path: string;
  /** What is wrong, e.g. `must be >= 1`. */
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** Set when the value came from a `DTS_*` variable (`path` is its name) or a flag (`path` is the flag). */
  source?: "env" | "flag";
  /** The value as given there, for the message. */
  value?: string;
}

/** A config file could not be read or is invalid; carries every issue found. */
export class ConfigError extends UsageError {
  readonly file: string;
  readonly issues: readonly ConfigIssue[];
  constructor(file: string, issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(formatConfigIssues(file, issues), options);
    this.name = "ConfigError";
    this.file = file;
    this.issues = issues;
  }
}

function formatConfigIssues(file: string, issues: readonly ConfigIssue[]): string {
  const lines = issues.map((issue) => {
    if (issue.source !== undefined) {
      // Not the file's fault: name the variable or flag and the value it was given.
      const given = issue.value === undefined
        ? issue.path
        : `${issue.path}${issue.source === "env" ? "=" : " "}${JSON.stringify(issue.value)}`;
      return `Cannot use ${given}: ${issue.message}`;
    }
    const where = issue.line === undefined ? "" : ` (line ${issue.line})`;
    const path = issue.path === "" ? "" : `${issue.path} `;
    return `Cannot load config "${file}": ${path}${issue.message}${where}`;
  });
  return lines.join("\n");
}

/** The broker could not be reached at all (connection refused, DNS, auth, TLS). */
export class BrokerUnreachableError extends DtsError {
  override readonly exitCode: number = 3;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokerUnreachableError";
  }
}

/** A broker operation failed; `recoverable` says whether a reconnect may fix it. */
export class BrokerError extends DtsError {
  readonly recoverable: boolean;
  constructor(message: string, options?: ErrorOptions & { recoverable?: boolean }) {
    super(message, options);
    this.name = "BrokerError";
    this.recoverable = options?.recoverable ?? true;
  }
}

/** The broker could not route a published message: no queue is bound for it (a mandatory publish came back). */
export class UnroutableError extends BrokerError {
  readonly routingKey: string;
  constructor(message: string, routingKey: string, options?: ErrorOptions) {
    super(message, { ...options, recoverable: false });
    this.name = "UnroutableError";
    this.routingKey = routingKey;
  }
}

/**
 * A queue exists with other arguments than declared (a classic queue
 * declared quorum, a changed delivery limit): RabbitMQ never changes a
 * queue's arguments. A configuration problem, so bad usage (exit 2).
 */
export class QueueMismatchError extends BrokerError {
  override readonly exitCode: number = 2;
  readonly queue: string;
  constructor(message: string, queue: string, options?: ErrorOptions) {
    super(message, { ...options, recoverable: false });
    this.name = "QueueMismatchError";
    this.queue = queue;
  }
}

/** The broker refused a message for its size (RabbitMQ's `max_message_size`); retrying cannot help. */
export class MessageTooLargeError extends BrokerError {
  /** The message's size in bytes. */
  readonly bytes: number;
  /** The largest message the broker takes. */
  readonly maxBytes: number;
  constructor(message: string, sizes: { bytes: number; maxBytes: number }, options?: ErrorOptions) {
    super(message, { ...options, recoverable: false });
    this.name = "MessageTooLargeError";
    this.bytes = sizes.bytes;
    this.maxBytes = sizes.maxBytes;
  }
}

/** A plugin module is broken (no default export, no `run`, duplicate name). */
export class PluginError extends DtsError {
  override readonly exitCode: number = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PluginError";
  }
}

/** A message off the wire cannot be understood; it goes to the dead-letter queue. */
export class ProtocolError extends DtsError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** Serialisable description of an error: what a result or dead letter carries. */
export interface ErrorInfo {
  /** Error class name, e.g. `TypeError`. */
  type: string;
  message: string;
  stack?: string;
  /** Python-side module for Celery's exception encoding, e.g. `builtins`. */
  module?: string;
}

/** Longest error message kept: it travels in results and dead-letter headers. */
const MAX_MESSAGE_CHARS = 4096;
/** Longest stack kept. */
const MAX_STACK_CHARS = 16_384;

/** What was thrown, described; `retryable` is false only when the thrown value says `retryable === false`. */
export interface ThrownInfo {
  error: ErrorInfo;
  retryable: boolean;
}

/**
 * Describe anything a plugin may throw: an Error, a string, an object, a
 * Proxy whose traps throw, an Error whose getters throw. Never throws.
 */
export function describeThrown(thrown: unknown): ThrownInfo {
  if (thrown === null || (typeof thrown !== "object" && typeof thrown !== "function")) {
    const message = typeof thrown === "string" ? thrown : safeText(thrown);
    return { error: { type: "Error", message: clip(message, MAX_MESSAGE_CHARS) }, retryable: true };
  }
  const name = readSafely(thrown, "name");
  const message = readSafely(thrown, "message");
  const stack = readSafely(thrown, "stack");
  const retryable = readSafely(thrown, "retryable") !== false;
  const isError = safeIsError(thrown);
  const info: ErrorInfo = {
    type: typeof name === "string" && name !== "" ? clip(name, 200) : "Error",
    message: clip(
      typeof message === "string" ? message : isError ? "" : safeText(thrown),
      MAX_MESSAGE_CHARS,
    ),
  };
  if (typeof stack === "string" && stack !== "") info.stack = clip(stack, MAX_STACK_CHARS);
  return { error: info, retryable };
}

/** Turn anything thrown into an `Error` (plugins may throw strings or objects). Never throws. */
export function toError(thrown: unknown): Error {
  if (safeIsError(thrown)) return thrown as Error;
  const { error } = describeThrown(thrown);
  return new Error(error.message);
}

/** Describe a thrown value as `ErrorInfo` for a result or a dead-letter header. Never throws. */
export function toErrorInfo(thrown: unknown): ErrorInfo {
  return describeThrown(thrown).error;
}

function readSafely(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function safeIsError(value: unknown): boolean {
  try {
    return value instanceof Error;
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws
  }
}

function safeText(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (typeof json === "string") return json;
  } catch { /* a cycle, a BigInt, a throwing toJSON: fall back to String() */ }
  try {
    return String(value);
  } catch {
    return "(a value that cannot be shown)";
  }
}

function clip(text: string, max: number): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A file system error in a few words. */
export function fsReason(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return "permission denied";
  }
  if (error instanceof Deno.errors.NotADirectory) return "part of the path is not a folder";
  if (error instanceof Deno.errors.AlreadyExists) return "it exists and is not a folder";
  if (error instanceof Deno.errors.NotFound) return "no such folder";
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
