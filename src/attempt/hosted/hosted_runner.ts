/**
 * Runs attempts in plugin hosts (Web Workers), a few hosts per plugin module,
 * started on demand and retired when idle.
 *
 * The worker's thread keeps the clock: at an attempt's time limit (or when
 * the worker stops) the outcome is decided at once and the plugin's
 * `ctx.signal` aborts; a plugin that has not let go `killGraceMs` later has
 * its host terminated, which is the only way to stop a busy loop. Attempts
 * that shared that host are cut short, not failed: their messages go back
 * to the queue uncharged.
 * @module
 */

import { CANCELLED, type Clock, systemClock } from "../../clock.ts";
import { type ErrorInfo, PluginError, toErrorInfo } from "../../errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { TaskDefinition, TaskLog } from "../../plugin/task_plugin.ts";
import {
  type AttemptInput,
  type AttemptOutcome,
  type AttemptRunner,
  TaskRevokedError,
  TaskTimeoutError,
  WorkerStoppedError,
} from "../attempt_runner.ts";
import type { HostOutcome } from "./host_messages.ts";
import { hostPermissions } from "./host_permissions.ts";
import { PluginHost } from "./plugin_host.ts";

/** How to run hosts. */
export interface HostedRunnerOptions {
  /** Most hosts per plugin module. @default 1 */
  hostsPerPlugin?: number;
  /** How long an aborted attempt may go on before its host is terminated. @default 5000 */
  killGraceMs?: number;
  /** A host idle this long is retired. @default 60_000 */
  idleMs?: number;
  /** Replace a host after it has run this many attempts; 0: never. @default 0 */
  maxAttemptsPerHost?: number;
  /** Where relative plugin permission paths start. @default Deno.cwd() */
  cwd?: string;
  logger: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** Measures runtimes. @default performance.now */
  now?: () => number;
}

interface Slot {
  readonly module: string;
  readonly ready: Promise<PluginHost>;
  host: PluginHost | null;
  /** Attempts given to this slot and not finished. */
  reserved: number;
  /** No new attempts: recycling, or terminated. */
  retiring: boolean;
  /** Attempts running in this host, and the log each writes to. */
  readonly logs: Map<number, TaskLog>;
  /** Set when the runner terminated the host on purpose: why. */
  stoppedBecause: string | null;
  /** When the slot last went idle (clock ms). */
  idleSince: number;
  /** Its idle timer is pending: one per slot, not one per attempt. */
  idleTimer: boolean;
}

const noop = (): void => {};

/** The runner `dts worker` uses; see the module notes. */
export class HostedRunner implements AttemptRunner {
  #options: Required<Omit<HostedRunnerOptions, "logger" | "clock" | "now" | "cwd">>;
  #logger: Logger;
  #clock: Clock;
  #now: () => number;
  #cwd: string;
  #slots = new Map<string, Slot[]>();
  #closed = false;
  /** Cancels the idle and grace timers on close. */
  #closing = new AbortController();

  constructor(options: HostedRunnerOptions) {
    this.#options = {
      hostsPerPlugin: options.hostsPerPlugin ?? 1,
      killGraceMs: options.killGraceMs ?? 5000,
      idleMs: options.idleMs ?? 60_000,
      maxAttemptsPerHost: options.maxAttemptsPerHost ?? 0,
    };
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#cwd = options.cwd ?? Deno.cwd();
  }

  /** Hosts alive now, over every plugin. */
  get hosts(): number {
    let n = 0;
    for (const slots of this.#slots.values()) n += slots.filter((s) => !s.retiring).length;
    return n;
  }

  async run(task: TaskDefinition, input: AttemptInput): Promise<AttemptOutcome> {
    const started = this.#now();
    const failure = (error: ErrorInfo, more: Partial<AttemptOutcome> = {}): AttemptOutcome => ({
      ok: false,
      error,
      retryable: true,
      runtimeMs: this.#now() - started,
      timedOut: false,
      stopped: false,
      ...more,
    } as AttemptOutcome);
    if (task.module === undefined) {
      return failure({ type: "PluginError", message: `Task "${task.name}" has no plugin module` }, {
        retryable: false,
      });
    }
    if (this.#closed || input.stopSignal.aborted) {
      return failure(toErrorInfo(new WorkerStoppedError()), { stopped: true });
    }
    const slot = this.#slotFor(task);
    slot.reserved++;
    try {
      let host: PluginHost;
      try {
        host = await slot.ready;
      } catch (error) {
        return failure(toErrorInfo(error));
      }
      const { attempt, done } = host.run({
        id: input.id,
        name: input.name,
        args: input.args,
        kwargs: input.kwargs,
        retries: input.retries,
      });
      slot.logs.set(attempt, input.log);
      try {
        return await this.#follow(slot, host, attempt, done, task, input, failure, started);
      } finally {
        slot.logs.delete(attempt);
      }
    } finally {
      slot.reserved--;
      this.#afterAttempt(slot);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    for (const slots of this.#slots.values()) {
      for (const slot of slots) this.#terminate(slot, "the worker stopped");
    }
    this.#slots.clear();
    await Promise.resolve();
  }

  /** Wait for the attempt's end, its time limit or the worker's stop, whichever comes first. */
  async #follow(
    slot: Slot,
    host: PluginHost,
    attempt: number,
    done: Promise<HostOutcome>,
    task: TaskDefinition,
    input: AttemptInput,
    failure: (error: ErrorInfo, more?: Partial<AttemptOutcome>) => AttemptOutcome,
    started: number,
  ): Promise<AttemptOutcome> {
    const cancel = new AbortController();
    const timers: Promise<"timeout" | "stop" | "revoke">[] = [];
    if (task.timeoutMs !== null) {
      timers.push(this.#clock.sleep(task.timeoutMs, cancel.signal).then(() => "timeout" as const));
    }
    timers.push(whenAborted(input.stopSignal, "stop", cancel.signal));
    if (input.revokeSignal !== undefined) {
      timers.push(whenAborted(input.revokeSignal, "revoke", cancel.signal));
    }
    const revokeSignal = input.revokeSignal;
    for (const timer of timers) timer.catch(noop);
    try {
      const first = await Promise.race([done, ...timers]);
      if (first !== "timeout" && first !== "stop" && first !== "revoke") {
        if (first.ok) return { ok: true, value: first.value, runtimeMs: this.#now() - started };
        if (slot.stoppedBecause !== null) {
          return failure({ type: "WorkerStoppedError", message: slot.stoppedBecause }, {
            stopped: true,
          });
        }
        return failure(first.error, { retryable: first.retryable });
      }
      const reason = first === "timeout"
        ? new TaskTimeoutError(task.timeoutMs ?? 0)
        : first === "revoke"
        ? revokedError(revokeSignal?.reason)
        : new WorkerStoppedError();
      host.abort(attempt, toErrorInfo(reason));
      this.#killUnlessDone(
        slot,
        done,
        `attempt of "${task.name}" (${input.id}) ignored its signal`,
      );
      return failure(toErrorInfo(reason), {
        timedOut: first === "timeout",
        stopped: first === "stop",
        revoked: first === "revoke",
      });
    } finally {
      cancel.abort(CANCELLED);
    }
  }

  /** Terminate the host if the aborted attempt is still running after the grace period. */
  #killUnlessDone(slot: Slot, done: Promise<HostOutcome>, why: string): void {
    const grace = new AbortController();
    done.then(() => grace.abort(CANCELLED), noop);
    this.#closing.signal.addEventListener("abort", () => grace.abort(CANCELLED), {
      signal: grace.signal,
    });
    this.#clock.sleep(this.#options.killGraceMs, grace.signal).then(() => {
      this.#logger.warn("Terminating a plugin host: a task kept running after its signal", {
        plugin: slot.host?.source,
        grace_ms: this.#options.killGraceMs,
      });
      this.#terminate(slot, `its plugin host was stopped: an ${why}`);
    }, noop);
  }

  /**
   * The host for the next attempt: an idle one if any; else a new one while
   * under `hostsPerPlugin`, so that attempts spread over threads before any
   * two share one (CPU-bound plugins use every host's core); else the least
   * busy host with room.
   */
  #slotFor(task: TaskDefinition): Slot {
    const module = task.module!;
    const slots = this.#slots.get(module) ?? [];
    this.#slots.set(module, slots);
    let best: Slot | null = null;
    let open = 0;
    for (const slot of slots) {
      if (slot.retiring) continue;
      open++;
      if (best === null || slot.reserved < best.reserved) best = slot;
    }
    const full = open >= this.#options.hostsPerPlugin;
    if (best !== null && (best.reserved === 0 || full)) {
      // Over capacity (the worker's own limit should prevent it), it is shared all the same.
      return best;
    }
    const slot = this.#startSlot(task);
    slots.push(slot);
    return slot;
  }

  #startSlot(task: TaskDefinition): Slot {
    const logs = new Map<number, TaskLog>();
    const slot: Slot = {
      module: task.module!,
      host: null,
      reserved: 0,
      retiring: false,
      logs,
      stoppedBecause: null,
      idleSince: 0,
      idleTimer: false,
      ready: PluginHost.start({
        moduleUrl: task.module!,
        source: task.source,
        permissions: hostPermissions(task.module!, task.permissions ?? {}, this.#cwd),
        onLog: (line) => {
          const log = logs.get(line.attempt) ?? this.#logger;
          log[line.level](line.msg, line.fields);
        },
        onStray: (error) =>
          this.#logger.error("A plugin failed outside any task", {
            plugin: task.source,
            error: error.message,
          }),
      }).then(({ host }) => {
        slot.host = host;
        if (slot.retiring) host.terminate({ type: "PluginError", message: "retired" });
        return host;
      }, (error: unknown) => {
        this.#remove(slot);
        throw error instanceof PluginError ? error : new PluginError(String(error));
      }),
    };
    slot.ready.catch(noop);
    return slot;
  }

  #afterAttempt(slot: Slot): void {
    const host = slot.host;
    const limit = this.#options.maxAttemptsPerHost;
    if (host !== null && limit > 0 && host.started >= limit) slot.retiring = true;
    if (host !== null && !host.alive) slot.retiring = true;
    if (slot.reserved > 0) return;
    if (slot.retiring) {
      this.#terminate(slot, "recycled");
      return;
    }
    slot.idleSince = this.#clock.now();
    this.#retireWhenIdle(slot);
  }

  /** Retire the slot once it has had no work for `idleMs` since it last went idle. */
  #retireWhenIdle(slot: Slot): void {
    if (slot.idleTimer) return;
    slot.idleTimer = true;
    const dueMs = slot.idleSince + this.#options.idleMs - this.#clock.now();
    this.#clock.sleep(Math.max(0, dueMs), this.#closing.signal).then(() => {
      slot.idleTimer = false;
      // Busy again: its next idle moment sets the timer again.
      if (slot.retiring || slot.reserved > 0) return;
      if (this.#clock.now() - slot.idleSince >= this.#options.idleMs) {
        this.#terminate(slot, "idle");
      } else {
        this.#retireWhenIdle(slot);
      }
    }, noop);
  }

  #terminate(slot: Slot, why: string): void {
    slot.retiring = true;
    slot.stoppedBecause ??= why;
    slot.host?.terminate({ type: "WorkerStoppedError", message: why });
    this.#remove(slot);
  }

  #remove(slot: Slot): void {
    const slots = this.#slots.get(slot.module);
    if (!slots) return;
    const at = slots.indexOf(slot);
    if (at >= 0) slots.splice(at, 1);
    if (slots.length === 0) this.#slots.delete(slot.module);
  }
}

/** Resolves to `value` once `signal` aborts (now, if it has); forgotten when `cancel` aborts. */
function whenAborted<T>(signal: AbortSignal, value: T, cancel: AbortSignal): Promise<T> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(value);
    signal.addEventListener("abort", () => resolve(value), { once: true, signal: cancel });
  });
}

/** The revoke signal's reason as a `TaskRevokedError`, whatever was aborted with. */
function revokedError(reason: unknown): TaskRevokedError {
  return reason instanceof TaskRevokedError ? reason : new TaskRevokedError(String(reason));
}
