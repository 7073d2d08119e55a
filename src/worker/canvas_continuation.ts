/**
 * Celery canvas on a dts worker: what a Celery worker sends once a task is
 * done, built from the message's `embed` (protocol v2). After a success:
 * each link (`callbacks`) with the result prepended to its arguments, and
 * the next step of the `chain` (the list's last element), carrying the rest
 * of the chain, both with `root_id` and `parent_id` set; an immutable
 * signature takes no result. After a failure for good: each error link
 * (`errbacks`) with the failed task's id as its first argument (Celery's
 * form for an errback it does not run in-process), and a FAILURE result for
 * every task id still waiting in the chain, so its client never hangs.
 *
 * `canvasProblem()` runs before the task does: what dts cannot send (a
 * chord: it needs a result backend; a chain going on after a group: that is
 * a chord too) is refused then, with the reason, not discovered after.
 * @module
 */
import type { ErrorInfo } from "../errors.ts";
import {
  CELERY_DEFAULT_QUEUE,
  type CelerySignature,
  readSignatures,
} from "../protocol/celery_signature.ts";
import { createTaskMessage, type TaskMessage } from "../protocol/celery_task_message.ts";

/** One task message to send, and its queue. */
export interface Continuation {
  queue: string;
  message: TaskMessage;
}

/** A FAILURE result owed to a task id of the chain that will never run. */
export interface OwedFailure {
  taskId: string;
  replyTo: string;
}

/** Why the message's canvas cannot be carried out by a dts worker, or null. */
export function canvasProblem(message: TaskMessage): string | null {
  const { embed } = message;
  if (noCanvas(embed)) return null; // nearly every message: nothing to read, on the hot path
  if (embed.chord !== null && embed.chord !== undefined) {
    return "a chord needs a result backend that stores results (Celery refuses chords with rpc://, and dts workers use rpc://); send its header as a group and its body after it";
  }
  try {
    const signatures = [
      ...readSignatures(embed.callbacks, "embed.callbacks"),
      ...readSignatures(embed.errbacks, "embed.errbacks"),
    ];
    const chain = readSignatures(embed.chain, "embed.chain");
    for (const sig of [...signatures, ...chain]) {
      if (sig.unsupported !== null) return `a ${sig.unsupported} signature in a link or chain`;
      for (const member of sig.members ?? []) {
        if (member.members !== null || member.unsupported !== null) {
          return "a group inside a group";
        }
      }
    }
    if (chain.length > 1 && chain.slice(1).some((sig) => sig.members !== null)) {
      return "a chain that goes on after a group (Celery makes that a chord, which needs a result backend)";
    }
  } catch (error) {
    return `its embed is malformed: ${(error as Error).message}`;
  }
  return null;
}

/** What to send after `message` succeeded with `value`; call only when `canvasProblem()` was null. */
export function afterSuccess(message: TaskMessage, value: unknown): Continuation[] {
  if (noCanvas(message.embed)) return [];
  const sends: Continuation[] = [];
  for (const link of readSignatures(message.embed.callbacks, "embed.callbacks")) {
    sends.push(...expand(link, [value], message, null));
  }
  const rawChain = message.embed.chain;
  if (Array.isArray(rawChain) && rawChain.length > 0) {
    const [next] = readSignatures([rawChain.at(-1)], "embed.chain");
    const rest = rawChain.slice(0, -1);
    sends.push(...expand(next, [value], message, rest.length > 0 ? rest : null));
  }
  return sends;
}

/** What to send after `message` failed for good. */
export function afterFailure(
  message: TaskMessage,
): { errbacks: Continuation[]; owed: OwedFailure[] } {
  const errbacks = readSignatures(message.embed.errbacks, "embed.errbacks")
    .flatMap((link) => expand(link, [message.id], message, null));
  const owed: OwedFailure[] = [];
  for (const sig of readSignatures(message.embed.chain, "embed.chain")) {
    for (const step of sig.members ?? [sig]) {
      const replyTo = step.replyTo ?? message.replyTo;
      if (step.taskId !== null && replyTo !== null) owed.push({ taskId: step.taskId, replyTo });
    }
  }
  return { errbacks, owed };
}

/** The error an owed chain result carries. */
export function chainBrokenError(message: TaskMessage, cause: ErrorInfo): ErrorInfo {
  return {
    ...cause,
    message: `${cause.message} (in ${message.task}[${message.id}], earlier in the chain)`,
  };
}

/** Whether an embed asks for nothing (Celery sends nulls; empty lists count as none). */
function noCanvas(embed: TaskMessage["embed"]): boolean {
  const none = (v: unknown) =>
    v === null || v === undefined || (Array.isArray(v) && v.length === 0);
  return none(embed.callbacks) && none(embed.errbacks) && none(embed.chain) && none(embed.chord);
}

function expand(
  sig: CelerySignature,
  prepend: unknown[],
  parent: TaskMessage,
  chain: unknown[] | null,
): Continuation[] {
  if (sig.members !== null) {
    const group = sig.taskId ?? crypto.randomUUID();
    return sig.members.flatMap((member) => expand({ ...member }, prepend, parent, null))
      .map((send) => ({ ...send, message: { ...send.message, group } }));
  }
  const message = createTaskMessage(sig.task, {
    id: sig.taskId ?? crypto.randomUUID(),
    args: sig.immutable ? sig.args : [...prepend, ...sig.args],
    kwargs: sig.kwargs,
    replyTo: sig.replyTo,
    rootId: parent.rootId,
    parentId: parent.id,
    priority: sig.priority ?? parent.priority,
  });
  message.embed = { callbacks: null, errbacks: null, chain, chord: null };
  return [{ queue: sig.queue ?? CELERY_DEFAULT_QUEUE, message }];
}
