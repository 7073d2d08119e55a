/**
 * What a message in a reply queue says about a task, as `TaskEvent`s.
 * @module
 */
import type { ErrorInfo } from "../errors.ts";
import {
  decodeException,
  decodeResultMessage,
  type ResultMessage,
} from "../protocol/celery_result_message.ts";
import type { TaskEvent } from "../report/task_event.ts";
import type { MessageProps } from "../transport/transport.ts";

/** What the dispatcher knows of a task it waits for. */
export interface FollowedTask {
  task: string;
  queue: string;
  /** Retries seen so far. */
  retries: number;
}

/**
 * The events one result message means for the task it names: none for a
 * message that is not a result, or names a task `lookup` does not know.
 * RECEIVED and STARTED come from Celery's STARTED state.
 */
export function resultEvents(
  message: { body: Uint8Array; props: MessageProps },
  lookup: (taskId: string) => FollowedTask | undefined,
): TaskEvent[] {
  let result: ResultMessage;
  try {
    result = decodeResultMessage(message.body, message.props);
  } catch {
    return []; // Not a result message: nothing to follow.
  }
  const entry = lookup(result.taskId);
  if (entry === undefined) return [];
  const base = { id: result.taskId, task: entry.task, queue: entry.queue };
  const at = Date.parse(result.dateDone ?? "") || Date.now();
  const worker = result.worker ?? startedHostname(result);
  switch (result.status) {
    case "STARTED": {
      const received = Date.parse(result.receivedAt ?? "") || at;
      const started = Date.parse(result.startedAt ?? "") || at;
      return [
        { ...base, type: "RECEIVED", at: received, worker: worker ?? "?" },
        { ...base, type: "STARTED", at: started, worker: worker ?? "?" },
      ];
    }
    case "RETRY":
      return [{
        ...base,
        type: "RETRY",
        at,
        retries: (result.retries ?? entry.retries) + 1,
        delayMs: result.delayMs ?? null,
        error: errorOf(result),
      }];
    case "SUCCESS":
      return [{
        ...base,
        type: "SUCCESS",
        at,
        result: result.result,
        runtimeMs: result.runtimeMs ?? null,
        worker,
        retries: result.retries ?? entry.retries,
      }];
    case "FAILURE":
    case "REVOKED":
      return [{
        ...base,
        type: result.status,
        at,
        error: errorOf(result),
        runtimeMs: result.runtimeMs ?? null,
        worker,
        retries: result.retries ?? entry.retries,
      }];
    default:
      return [];
  }
}

/** Celery's own STARTED result is `{pid, hostname}` and its results carry no `worker`: take the name from there. */
function startedHostname(result: ResultMessage): string | null {
  if (result.status !== "STARTED") return null;
  const hostname = (result.result as { hostname?: unknown } | null)?.hostname;
  return typeof hostname === "string" ? hostname : null;
}

function errorOf(result: ResultMessage): ErrorInfo | null {
  if (result.result === null || result.result === undefined) return null;
  const info = decodeException(result.result);
  return result.traceback ? { ...info, stack: result.traceback } : info;
}
