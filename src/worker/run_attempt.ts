/**
 * Run one attempt of a task: the plugin's `run` under a deadline, its result
 * checked to be JSON. Knows nothing about queues or acks.
 * @module
 */
import type { TaskContext, TaskDefinition } from "../plugin/task_plugin.ts";

/** The outcome of one attempt. */
export type AttemptOutcome =
  | { ok: true; value: unknown; runtimeMs: number }
  | { ok: false; error: unknown; runtimeMs: number; timedOut: boolean; stopped: boolean };

/** Raised into `ctx.signal` and reported when an attempt passes its task's `timeoutMs`. */
export class TaskTimeoutError extends Error {
  constructor(ms: number) {
    super(`Task did not finish within ${ms} ms`);
    this.name = "TaskTimeoutError";
  }
}

/** A result that cannot be stored as JSON; retrying would not help. */
export class ResultNotJsonError extends Error {
  readonly retryable = false;
  constructor(reason: string) {
    super(`Cannot store the task's result: ${reason}`);
    this.name = "ResultNotJsonError";
  }
}

/** What the worker passes besides the task: the message's fields and its own stop signal. */
export interface AttemptInput extends Omit<TaskContext, "signal"> {
  /** Aborts when the worker stops for good; the attempt then counts as `stopped`. */
  stopSignal: AbortSignal;
  now?: () => number;
}

/** Run `task` once; never throws. */
export async function runAttempt(
  task: TaskDefinition,
  input: AttemptInput,
): Promise<AttemptOutcome> {
  const now = input.now ?? performance.now.bind(performance);
  const controller = new AbortController();
  const onStop = () => controller.abort(input.stopSignal.reason);
  input.stopSignal.addEventListener("abort", onStop, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (task.timeoutMs !== null) {
    const ms = task.timeoutMs;
    timer = setTimeout(() => controller.abort(new TaskTimeoutError(ms)), ms);
  }
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
      once: true,
    });
  });
  // The plugin may ignore its signal; racing against it means the deadline holds anyway.
  aborted.catch(() => {});

  const { stopSignal: _stop, now: _now, ...ctx } = input;
  const started = now();
  try {
    const value = await Promise.race([
      Promise.resolve().then(() => task.run({ ...ctx, signal: controller.signal })),
      aborted,
    ]);
    return { ok: true, value: toJsonValue(value), runtimeMs: now() - started };
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    return {
      ok: false,
      error: reason ?? error,
      runtimeMs: now() - started,
      timedOut: reason instanceof TaskTimeoutError,
      stopped: input.stopSignal.aborted,
    };
  } finally {
    clearTimeout(timer);
    input.stopSignal.removeEventListener("abort", onStop);
    if (!controller.signal.aborted) controller.abort();
  }
}

/** The value as it will read back from JSON; undefined becomes null as Python's None. */
function toJsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new ResultNotJsonError(error instanceof Error ? error.message : String(error));
  }
  if (text === undefined) throw new ResultNotJsonError(`a ${typeof value} is not JSON`);
  return value;
}
