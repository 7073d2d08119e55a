/**
 * What a worker does with one delivery from a task queue: decode it, decide
 * whether to run it now, run it, record the outcome, settle. Every path ends
 * with the delivery settled or handed back to the broker.
 * @module
 */
import { ProtocolError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { REDELIVERIES_HEADER, TRACK_STARTED_HEADER } from "../protocol/dts_headers.ts";
import {
  decodeTaskMessage,
  encodeTaskMessage,
  type TaskMessage,
} from "../protocol/celery_task_message.ts";
import { type Delivery, MAX_DELAY_MS } from "../transport/transport.ts";
import { canvasProblem } from "./canvas_continuation.ts";
import { CANCELLED } from "../clock.ts";
import { MAX_LIMIT_WAIT_MS, type ReleaseLimits } from "../limits/task_limits.ts";
import type { DeliveryDeps, RunnableTask } from "./delivery_deps.ts";
import { type ActiveTask, messageKey } from "./in_flight.ts";
import { recordOutcome } from "./record_outcome.ts";
import { judgeRedelivery } from "./redelivery_guard.ts";
import { refuseRevoked, type Rejection, rejectMalformed, rejectTask } from "./reject_message.ts";
import { publishResult } from "./result_publisher.ts";
import { settleAfterError } from "./settle_after_error.ts";
import type { PoolTurn } from "./pool_size.ts";
import { withTimeLimit } from "./time_limit.ts";

export type { DeliveryDeps } from "./delivery_deps.ts";

/** One decoded task message on its way through the worker. */
interface TaskDelivery {
  delivery: Delivery;
  message: TaskMessage;
  /** `messageKey` of the message. */
  key: string;
  log: Logger;
  receivedAt: number;
  /** Its hold on a pool slot, when it runs in a worker's pool. */
  turn: PoolTurn | null;
}

/** An eta this close counts as now: the broker's delay ladder rounds up to 16 ms. */
const ETA_SLACK_MS = 25;

/** What the log says for each kind of refusal. */
const REFUSAL_LOG: Readonly<Record<string, string>> = {
  NotRegistered: "Dead-lettering a message for an unknown task",
  TaskRevokedError: "Dead-lettering an expired task",
  WorkerLostError: "Dead-lettering a poison message: workers kept dying holding it",
  ProtocolError: "Dead-lettering a task whose reply_to names a task queue",
  CanvasUnsupported: "Dead-lettering a task whose Celery canvas dts workers cannot carry out",
};

/** Handle one delivery to the end; never rejects. */
export async function handleDelivery(
  delivery: Delivery,
  deps: DeliveryDeps,
  turn: PoolTurn | null = null,
): Promise<void> {
  let key: string | null = null;
  let settled: boolean;
  try {
    const task = await decode(delivery, deps, turn);
    if (task !== null) {
      key = task.key;
      await process(task, deps);
    }
    settled = true;
  } catch (error) {
    settled = await settleAfterError(delivery, error, deps);
  }
  // Settled: a copy of it arriving later is not a redelivery of ours.
  if (key !== null && settled) deps.held.settled(key);
}

/** The decoded task, or null when the message was malformed (and is dead-lettered now). */
async function decode(
  delivery: Delivery,
  deps: DeliveryDeps,
  turn: PoolTurn | null,
): Promise<TaskDelivery | null> {
  const receivedAt = deps.now();
  let message: TaskMessage;
  try {
    message = decodeTaskMessage(delivery.body, delivery.props, { maxBytes: deps.maxMessageBytes });
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    await rejectMalformed(delivery, error.message, deps);
    return null;
  }
  const log = deps.logger.child({ task: message.task, id: message.id, retries: message.retries });
  return {
    delivery,
    message,
    key: messageKey(message.id, message.retries),
    log,
    receivedAt,
    turn,
  };
}

async function process(task: TaskDelivery, deps: DeliveryDeps): Promise<void> {
  const ours = deps.held.has(task.key);
  deps.held.take(task.key);
  const running = deps.inFlight.outcomeOf(task.key);
  if (running !== null) {
    // A copy of a message this worker still runs: its channel died under it.
    // Never run one message twice at once; settle this copy by the first's outcome.
    task.log.info("A copy of a running task arrived; waiting for the running one");
    if (await running) return await task.delivery.ack();
  }
  const revocation = deps.revoked.get(task.message.id);
  if (revocation !== undefined) return await refuseRevoked(task, revocation, deps);
  if (await guardedAgainstPoison(task, ours || running !== null, deps)) return;
  const entry = deps.tasks.get(task.message.task);
  const refusal = whyNotRun(task, entry, deps);
  if (refusal !== null) return await refuse(task, refusal, deps);
  if (await deferredUntilEta(task, deps)) return;
  // What it must send once done is checked now: a canvas dts cannot carry out is refused, not run.
  const canvas = canvasProblem(task.message);
  if (canvas !== null) {
    return await refuse(task, {
      status: "FAILURE",
      type: "CanvasUnsupported",
      reason: `dts workers cannot carry out this task's canvas: ${canvas}`,
    }, deps);
  }
  // Received once it will run here: an eta deferred to the broker is received when it comes back.
  deps.events?.received(task.message);
  if (deps.limits.limits(task.message.task)) return await runWithinLimits(task, entry!, deps);
  await runAndRecord(task, entry!, deps);
}

/**
 * Wait for the task's fleet-wide limits (a rate-limit token, a concurrency
 * slot), run it, and give the slot back once its outcome is recorded. A
 * task revoked while it waits is refused; one still waiting when the
 * worker stops goes back to its queue, uncounted.
 */
async function runWithinLimits(
  task: TaskDelivery,
  entry: RunnableTask,
  deps: DeliveryDeps,
): Promise<void> {
  const { message, delivery } = task;
  const waiting = deps.inFlight.reserve(describeTask(task, deps.now()));
  const timer = new AbortController();
  const tooLong = new AbortController();
  deps.clock.sleep(MAX_LIMIT_WAIT_MS, timer.signal).then(
    () => tooLong.abort(new Error(`it waited ${MAX_LIMIT_WAIT_MS / 1000} s on this worker`)),
    () => {},
  );
  const signal = AbortSignal.any([deps.intakeSignal, waiting.revokeSignal, tooLong.signal]);
  // Waiting on the fleet, not on this worker: its pool slot is free for other queues' tasks.
  task.turn?.stepAside();
  let release: ReleaseLimits;
  try {
    release = await deps.limits.acquire(message.task, signal);
    await task.turn?.comeBack(signal).catch(async (error) => {
      await release();
      throw error;
    });
  } catch (error) {
    const revocation = deps.revoked.get(message.id);
    if (revocation !== undefined) return await refuseRevoked(task, revocation, deps);
    task.log.info("Putting back a task that was waiting for its fleet-wide limit", {
      why: error instanceof Error ? error.message : String(error),
    });
    return await delivery.release();
  } finally {
    timer.abort(CANCELLED);
    waiting.done();
  }
  try {
    // It may have waited long: what expired meanwhile does not run.
    const refusal = whyNotRun(task, entry, deps);
    if (refusal !== null) return await refuse(task, refusal, deps);
    await runAndRecord(task, entry, deps);
  } finally {
    await release();
  }
}

/** Count a redelivery after a worker's death, or dead-letter poison; whether it was either. */
async function guardedAgainstPoison(
  task: TaskDelivery,
  ours: boolean,
  deps: DeliveryDeps,
): Promise<boolean> {
  const { delivery } = task;
  const verdict = judgeRedelivery(
    { redelivered: delivery.redelivered, headers: delivery.props.headers },
    { ours, maxRedeliveries: deps.maxRedeliveries },
  );
  if (verdict.action === "run") return false;
  if (verdict.action === "count") {
    // Another worker died holding it: count that on a copy at the tail.
    task.log.warn("A worker died holding this task; putting it back, counted", {
      redeliveries: verdict.redeliveries,
      max_redeliveries: deps.maxRedeliveries,
    });
    await delivery.release({ [REDELIVERIES_HEADER]: verdict.redeliveries });
    return true;
  }
  await refuse(task, {
    status: "FAILURE",
    type: "WorkerLostError",
    reason:
      `Task was running or waiting on a worker that died ${verdict.redeliveries} times (x-dts-redeliveries); dead-lettered as a poison message`,
    headers: { [REDELIVERIES_HEADER]: verdict.redeliveries },
  }, deps);
  return true;
}

/** Why a decoded task must not run here, or null. */
function whyNotRun(
  task: TaskDelivery,
  entry: RunnableTask | undefined,
  deps: DeliveryDeps,
): Rejection | null {
  const { message } = task;
  if (!entry) {
    // DEAD-LETTER UNKNOWN TASKS: retrying cannot teach this worker a new task.
    return {
      status: "FAILURE",
      type: "NotRegistered",
      reason: `Task "${message.task}" is not registered on worker "${deps.workerName}"`,
    };
  }
  if (message.expires !== null && Date.parse(message.expires) <= deps.now()) {
    return {
      status: "REVOKED",
      type: "TaskRevokedError",
      reason: `Task expired at ${message.expires}`,
    };
  }
  if (message.replyTo !== null && isTaskQueue(message.replyTo, task.delivery.queue, deps)) {
    return {
      status: "FAILURE",
      type: "ProtocolError",
      reason:
        `reply_to "${message.replyTo}" names a task queue; results go to a reply queue, never into a task queue`,
    };
  }
  return null;
}

/** A queue that holds tasks, delays or dead letters: a result published there would be misread. */
function isTaskQueue(name: string, queue: string, deps: DeliveryDeps): boolean {
  return name === queue || deps.queues.has(name) || name.endsWith(".dead") ||
    name.startsWith("dts.delay.");
}

async function refuse(task: TaskDelivery, rejection: Rejection, deps: DeliveryDeps): Promise<void> {
  task.log.warn(REFUSAL_LOG[rejection.type] ?? "Dead-lettering a task it will not run", {
    queue: task.delivery.queue,
    reason: rejection.reason,
  });
  // As Celery: an expired task is revoked (expired), the rest fail with their reason.
  if (rejection.status === "REVOKED") {
    deps.events?.revoked(task.message, { terminated: false, expired: true });
  } else {
    deps.events?.failed(task.message, { type: rejection.type, message: rejection.reason });
  }
  // A reply_to that names a task queue is the one place no result may go.
  const message = rejection.type === "ProtocolError"
    ? { ...task.message, replyTo: null }
    : task.message;
  await rejectTask({ delivery: task.delivery, message }, rejection, deps);
}

/** Hand a task whose eta is ahead back to the broker to hold; whether it was. */
async function deferredUntilEta(task: TaskDelivery, deps: DeliveryDeps): Promise<boolean> {
  const { message, delivery } = task;
  if (message.eta === null) return false;
  const waitMs = Date.parse(message.eta) - deps.now();
  if (waitMs <= ETA_SLACK_MS) return false;
  // NEVER HOLD A DELAYED TASK IN MEMORY: hand it back to the broker to hold.
  // An eta past what the broker holds in one go comes back early and is deferred again.
  const { body, props } = encodeTaskMessage(message);
  await deps.transport.publish(delivery.queue, body, {
    ...props,
    delayMs: Math.min(waitMs, MAX_DELAY_MS),
  });
  await delivery.ack();
  task.log.debug("Deferred a task until its eta", { eta: message.eta, delay_ms: waitMs });
  return true;
}

/** What `inspect active` and `inspect reserved` show of a task, since `at`. */
function describeTask(task: TaskDelivery, at: number): ActiveTask {
  const { message, delivery } = task;
  return {
    id: message.id,
    name: message.task,
    args: message.args,
    kwargs: message.kwargs,
    retries: message.retries,
    queue: delivery.queue,
    startedAt: at,
  };
}

async function runAndRecord(
  task: TaskDelivery,
  entry: RunnableTask,
  deps: DeliveryDeps,
): Promise<void> {
  const { delivery, message, log } = task;
  const startedAt = deps.now();
  if (message.replyTo !== null && message.extraHeaders[TRACK_STARTED_HEADER] === true) {
    // A progress note, not an outcome: not awaited, and losing it loses nothing.
    publishResult(message, deps, {
      status: "STARTED",
      result: { pid: Deno.pid, hostname: deps.workerName },
      receivedAt: new Date(task.receivedAt).toISOString(),
      startedAt: new Date(startedAt).toISOString(),
      queue: delivery.queue,
    }).catch((error) => log.debug("Cannot publish STARTED", { error }));
  }
  const running = deps.inFlight.start(describeTask(task, startedAt));
  const span = deps.tracer.startAttempt(message, delivery.queue, deps.workerName);
  let recorded = false;
  try {
    deps.metrics.taskStarted();
    deps.events?.started(message);
    log.info("Task started");
    const outcome = await deps.runner.run(withTimeLimit(entry.task, message.timeLimit), {
      id: message.id,
      name: message.task,
      args: message.args,
      kwargs: message.kwargs,
      retries: message.retries,
      log,
      stopSignal: deps.stopSignal,
      revokeSignal: running.revokeSignal,
    });
    deps.metrics.taskEnded();
    const finished = { delivery, message, policy: entry.policy, outcome, log };
    const retryHeaders = span?.retryHeaders;
    const state = await recordOutcome({
      ...finished,
      retryHeaders,
      continuationHeaders: span?.childHeaders,
      recorded: () => (recorded = true),
    }, deps);
    span?.end(state, outcome.ok ? null : outcome.error);
  } catch (error) {
    // Not recorded: the message is settled by settleAfterError, and will run again.
    span?.end("UNRECORDED", { type: "BrokerError", message: String(error) });
    throw error;
  } finally {
    running.done(recorded);
  }
}
