/**
 * The entry point of a plugin host: a Web Worker that imports one plugin
 * module and runs its attempts, off the worker's event loop. A plugin that
 * blocks, throws oddly, leaves a rejection unhandled, or calls `Deno.exit()`
 * affects its own attempt only; the worker's heartbeats, health server and
 * remote control keep running on the main thread.
 *
 * Every attempt runs inside an `AsyncLocalStorage` scope holding its number,
 * so a rejection nobody handled (or an exception thrown from a timer) is
 * charged to the attempt whose code caused it, even when several attempts
 * share this host.
 *
 * This file is loaded with `new Worker(...)`; it is never imported.
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { describeThrown, type ErrorInfo } from "../../errors.ts";
import type {
  AttemptContextData,
  HostOutcome,
  HostReply,
  HostRequest,
  PluginManifest,
} from "./host_messages.ts";
import { jsonResultProblem } from "../json_result.ts";

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

interface Running {
  controller: AbortController;
  settle(outcome: HostOutcome): void;
}

const scope = globalThis as unknown as WorkerScope;
const currentAttempt = new AsyncLocalStorage<number>();
const running = new Map<number, Running>();
let run: ((ctx: unknown) => unknown) | null = null;

let outbox: HostReply[] = [];

/** Replies go out in batches, one `postMessage` per microtask turn (see PluginHost's `#send`). */
function post(reply: HostReply): void {
  outbox.push(reply);
  if (outbox.length === 1) queueMicrotask(flush);
}

function flush(): void {
  const batch = outbox;
  outbox = [];
  try {
    scope.postMessage(batch);
  } catch {
    // A value the structured clone cannot copy (a URL in a log field, say):
    // send each reply on its own, as JSON where it must be.
    for (const reply of batch) {
      try {
        scope.postMessage([reply]);
      } catch {
        scope.postMessage([JSON.parse(JSON.stringify(reply))]);
      }
    }
  }
}

/** A plugin must not end the worker: these fail the calling attempt instead. */
function guardExits(): void {
  const refuse = (what: string) => () => {
    throw Object.assign(new Error(`The plugin called ${what}; a plugin cannot stop the worker`), {
      name: "PluginExitError",
    });
  };
  Object.defineProperty(Deno, "exit", { value: refuse("Deno.exit()"), configurable: true });
  Object.defineProperty(scope, "close", { value: refuse("self.close()"), configurable: true });
}

/** Charge a failure that surfaced outside `run`'s own promise to the attempt that caused it. */
function chargeStray(thrown: unknown): void {
  const attempt = currentAttempt.getStore();
  const entry = attempt === undefined ? undefined : running.get(attempt);
  const { error, retryable } = describeThrown(thrown);
  if (entry) {
    entry.settle({
      ok: false,
      error: { ...error, message: `Unhandled in the task: ${error.message}` },
      retryable,
    });
  } else {
    post({ type: "stray", error });
  }
}

async function load(moduleUrl: string): Promise<void> {
  let module: Record<string, unknown>;
  try {
    module = await import(moduleUrl);
  } catch (thrown) {
    post({ type: "load-failed", error: describeThrown(thrown).error });
    return;
  }
  const manifest = manifestOf(module);
  const candidate = safeGet(module, "default");
  const runFn = candidate !== null && typeof candidate === "object"
    ? safeGet(candidate as Record<string, unknown>, "run")
    : undefined;
  if (typeof runFn === "function") run = (ctx) => runFn.call(candidate, ctx);
  post({ type: "loaded", manifest });
}

function manifestOf(module: Record<string, unknown>): PluginManifest {
  const exported = safeGet(module, "default");
  if (exported === undefined) return { fields: {}, hasRun: false, hasDefault: false };
  if (exported === null || typeof exported !== "object") {
    return { fields: { "(default)": typeof exported }, hasRun: false, hasDefault: true };
  }
  const fields: Record<string, unknown> = {};
  let keys: string[] = [];
  try {
    keys = Object.keys(exported);
  } catch { /* a Proxy: nothing readable */ }
  for (const key of keys) {
    if (key === "run") continue;
    const value = safeGet(exported as Record<string, unknown>, key);
    try {
      fields[key] = structuredClone(value);
    } catch {
      fields[key] = `(a ${typeof value} that cannot be copied)`;
    }
  }
  const hasRun = typeof safeGet(exported as Record<string, unknown>, "run") === "function";
  return { fields, hasRun, hasDefault: true };
}

function safeGet(object: Record<string, unknown>, key: string): unknown {
  try {
    return object[key];
  } catch {
    return undefined;
  }
}

function startAttempt(attempt: number, data: AttemptContextData): void {
  const controller = new AbortController();
  const entry: Running = {
    controller,
    settle(outcome) {
      if (running.get(attempt) !== entry) return; // settled already
      running.delete(attempt);
      post({ type: "done", attempt, outcome });
    },
  };
  running.set(attempt, entry);
  if (run === null) {
    entry.settle({
      ok: false,
      error: { type: "PluginError", message: "The plugin module has no run function" },
      retryable: false,
    });
    return;
  }
  const plugin = run;
  const log = (level: "debug" | "info" | "warn" | "error") => (msg: unknown, fields?: unknown) =>
    post({
      type: "log",
      attempt,
      level,
      msg: String(msg),
      fields: fields !== null && typeof fields === "object"
        ? fields as Record<string, unknown>
        : {},
    });
  const ctx = {
    ...data,
    signal: controller.signal,
    log: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  };
  currentAttempt.run(attempt, () => {
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(plugin(ctx));
    } catch (thrown) {
      entry.settle({ ok: false, ...describeThrown(thrown) });
      return;
    }
    result.then(
      (value) => entry.settle(successOf(value)),
      (thrown) => entry.settle({ ok: false, ...describeThrown(thrown) }),
    );
  });
}

function successOf(value: unknown): HostOutcome {
  const problem = jsonResultProblem(value);
  if (problem !== null) {
    return {
      ok: false,
      error: { type: "ResultNotJsonError", message: `Cannot store the task's result: ${problem}` },
      retryable: false,
    };
  }
  return { ok: true, value: value === undefined ? null : value };
}

function abortAttempt(attempt: number, reason: ErrorInfo): void {
  const entry = running.get(attempt);
  if (!entry) return;
  const error = Object.assign(new Error(reason.message), { name: reason.type });
  try {
    entry.controller.abort(error);
  } catch (thrown) {
    chargeStray(thrown); // an abort listener of the plugin threw
  }
}

guardExits();
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  chargeStray((event as PromiseRejectionEvent).reason);
});
scope.addEventListener("error", (event) => {
  event.preventDefault();
  chargeStray((event as ErrorEvent).error ?? (event as ErrorEvent).message);
});
scope.onmessage = (event: MessageEvent) => {
  for (const request of event.data as HostRequest[]) {
    if (request.type === "load") void load(request.moduleUrl);
    else if (request.type === "run") startAttempt(request.attempt, request.ctx);
    else if (request.type === "abort") abortAttempt(request.attempt, request.reason);
  }
};
