/**
 * The task events a worker and a sender emit, in Celery 5.2's shapes
 * (`celery/worker/strategy.py` for task-received, `worker/request.py` for
 * the rest, `app/amqp.py` for task-sent): reprs where Celery sends reprs
 * (`args`, `kwargs`, `result`, `exception`), seconds where it sends seconds.
 * With events off the worker holds `NO_TASK_EVENTS`, whose methods do
 * nothing, so the task path builds no event at all.
 * @module
 */

import type { ErrorInfo } from "../errors.ts";
import type { TaskMessage } from "../protocol/celery_task_message.ts";
import { pyRepr } from "../protocol/py_repr.ts";
import type { EventEmitter } from "./event_emitter.ts";

/** How a task came to be revoked (Celery's `task-revoked` fields). */
export interface RevokedHow {
  /** It was running and cut short (`revoke --terminate`). */
  terminated: boolean;
  /** Its `expires` passed before it ran. */
  expired: boolean;
}

/** Where a worker reports what happens to a task. */
export interface TaskEvents {
  received(message: TaskMessage): void;
  started(message: TaskMessage): void;
  succeeded(message: TaskMessage, result: unknown, runtimeMs: number): void;
  failed(message: TaskMessage, error: ErrorInfo): void;
  retried(message: TaskMessage, error: ErrorInfo): void;
  revoked(message: TaskMessage, how: RevokedHow): void;
}

/** Events off: nothing is built, nothing is sent. */
export const NO_TASK_EVENTS: TaskEvents = {
  received() {},
  started() {},
  succeeded() {},
  failed() {},
  retried() {},
  revoked() {},
};

/** The signal Celery's `revoke(terminate=True)` sends by default, as `task-revoked` reports it. */
const SIGTERM = 15;

/** Task events sent by `emitter`; `processed()` counts the tasks started, as Celery's heartbeat does. */
export function celeryTaskEvents(emitter: EventEmitter): TaskEvents & { processed(): number } {
  let processed = 0;
  return {
    processed: () => processed,
    received(message) {
      emitter.send("task-received", {
        uuid: message.id,
        name: message.task,
        args: pyRepr(message.args),
        kwargs: pyRepr(message.kwargs),
        root_id: message.rootId,
        parent_id: message.parentId,
        retries: message.retries,
        eta: message.eta,
        expires: message.expires,
      });
    },
    started(message) {
      processed++;
      emitter.send("task-started", { uuid: message.id });
    },
    succeeded(message, result, runtimeMs) {
      emitter.send("task-succeeded", {
        uuid: message.id,
        result: pyRepr(result),
        runtime: runtimeMs / 1000,
      });
    },
    failed(message, error) {
      emitter.send("task-failed", {
        uuid: message.id,
        exception: exceptionRepr(error),
        traceback: error.stack ?? "",
      });
    },
    retried(message, error) {
      emitter.send("task-retried", {
        uuid: message.id,
        exception: exceptionRepr(error),
        traceback: error.stack ?? "",
      });
    },
    revoked(message, how) {
      emitter.send("task-revoked", {
        uuid: message.id,
        terminated: how.terminated,
        signum: how.terminated ? SIGTERM : null,
        expired: how.expired,
      });
    },
  };
}

/** The `task-sent` event of a message a sender published to `queue` (default exchange, as dts sends). */
export function sendTaskSent(emitter: EventEmitter, queue: string, message: TaskMessage): void {
  emitter.send("task-sent", {
    uuid: message.id,
    root_id: message.rootId,
    parent_id: message.parentId,
    name: message.task,
    args: pyRepr(message.args),
    kwargs: pyRepr(message.kwargs),
    retries: message.retries,
    eta: message.eta,
    expires: message.expires,
    queue,
    exchange: "",
    routing_key: queue,
  });
}

/** Python's `repr()` of the exception, as Celery's `safe_repr(exc)`: `ValueError('boom')`. */
export function exceptionRepr(error: ErrorInfo): string {
  return `${error.type}(${pyRepr(error.message)})`;
}
