/**
 * The messages between a worker (main thread) and a plugin host (a Web
 * Worker that imports one plugin module and runs its attempts). Everything
 * here crosses `postMessage` (in arrays, one per microtask turn), so it is plain data: no functions, no classes.
 * @module
 */

import type { ErrorInfo } from "../../errors.ts";

/** The context of one attempt, as data (the host adds `signal` and `log`). */
export interface AttemptContextData {
  id: string;
  name: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  retries: number;
}

/** A plugin's default export as data: what the worker validates before trusting it. */
export interface PluginManifest {
  /** The default export's fields other than `run`, as they were (maybe invalid). */
  fields: Record<string, unknown>;
  /** Whether the default export has a `run` function. */
  hasRun: boolean;
  /** Whether the module has a default export at all. */
  hasDefault: boolean;
}

/** Main thread → host. */
export type HostRequest =
  | { type: "load"; moduleUrl: string }
  | { type: "run"; attempt: number; ctx: AttemptContextData }
  | { type: "abort"; attempt: number; reason: ErrorInfo };

/** How one attempt ended, in the host. */
export type HostOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: ErrorInfo; retryable: boolean };

/** Host → main thread. */
export type HostReply =
  | { type: "loaded"; manifest: PluginManifest }
  | { type: "load-failed"; error: ErrorInfo }
  | { type: "done"; attempt: number; outcome: HostOutcome }
  | {
    type: "log";
    attempt: number;
    level: "debug" | "info" | "warn" | "error";
    msg: string;
    fields: Record<string, unknown>;
  }
  /** Something failed outside any attempt (a rejection from module top-level code, say). */
  | { type: "stray"; error: ErrorInfo };
