/**
 * Run an attempt on the caller's own thread: the plugin's `run` under its
 * deadline, its result checked to be JSON. For tests and for embedding dts
 * in a program; `dts worker` runs plugins in hosts (`hosted/`), so that a
 * plugin that blocks or misbehaves cannot stall the worker.
 * @module
 */
import { CANCELLED, type Clock, systemClock } from "../clock.ts";
import { describeThrown } from "../errors.ts";
import type { TaskDefinition } from "../plugin/task_plugin.ts";
import {
  type AttemptInput,
  type AttemptOutcome,
  type AttemptRunner,
  TaskRevokedError,
  TaskTimeoutError,
} from "./attempt_runner.ts";
import { jsonResultProblem } from "./json_result.ts";

/** Options of `runInline`. */
export interface InlineOptions {
  /** Sets the deadline. @default systemClock */
  clock?: Clock;
  /** Measures the runtime. @default performance.now */
  now?: () => number;
}

const noop = (): void => {};

/** Run `task` once on this thread; never rejects. */
export async function runInline(
  task: TaskDefinition,
  input: AttemptInput,
  options: InlineOptions = {},
): Promise<AttemptOutcome> {
  const clock = options.clock ?? systemClock;
  const now = options.now ?? performance.now.bind(performance);
  const run = task.run;
  const controller = new AbortController();
  const onStop = () => controller.abort(input.stopSignal.reason);
  input.stopSignal.addEventListener("abort", onStop, { once: true });
  const revokeSignal = input.revokeSignal;
  const onRevoke = () => controller.abort(revokeSignal?.reason);
  if (revokeSignal?.aborted) onRevoke();
  else revokeSignal?.addEventListener("abort", onRevoke, { once: true });
  const deadline = new AbortController();
  if (task.timeoutMs !== null) {
    const ms = task.timeoutMs;
    clock.sleep(ms, deadline.signal).then(() => controller.abort(new TaskTimeoutError(ms)), noop);
  }
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
      once: true,
    });
  });
  // The plugin may ignore its signal; racing against it means the deadline holds anyway.
  aborted.catch(noop);

  const { stopSignal: _stop, revokeSignal: _revoke, ...ctx } = input;
  const started = now();
  try {
    if (run === undefined) {
      throw new TypeError(`Task "${task.name}" has no run function to call inline`);
    }
    const value = await Promise.race([
      Promise.resolve().then(() => run({ ...ctx, signal: controller.signal })),
      aborted,
    ]);
    const problem = jsonResultProblem(value);
    if (problem !== null) {
      return {
        ok: false,
        error: {
          type: "ResultNotJsonError",
          message: `Cannot store the task's result: ${problem}`,
        },
        retryable: false,
        runtimeMs: now() - started,
        timedOut: false,
        stopped: false,
      };
    }
    return { ok: true, value: value === undefined ? null : value, runtimeMs: now() - started };
  } catch (thrown) {
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    return {
      ok: false,
      ...describeThrown(reason ?? thrown),
      runtimeMs: now() - started,
      timedOut: reason instanceof TaskTimeoutError,
      stopped: input.stopSignal.aborted,
      revoked: reason instanceof TaskRevokedError,
    };
  } finally {
    deadline.abort(CANCELLED);
    input.stopSignal.removeEventListener("abort", onStop);
    revokeSignal?.removeEventListener("abort", onRevoke);
    if (!controller.signal.aborted) controller.abort(ATTEMPT_OVER);
  }
}

/** What a finished attempt's `ctx.signal` says; one object for all, built once (see CANCELLED). */
const ATTEMPT_OVER = new DOMException("The attempt is over", "AbortError");

/** A runner that runs every attempt inline. */
export function inlineRunner(options: InlineOptions = {}): AttemptRunner {
  return {
    run: (task, input) => runInline(task, input, options),
    close: () => Promise.resolve(),
  };
}
