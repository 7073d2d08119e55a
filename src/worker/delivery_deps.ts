/**
 * What handling one delivery needs from its worker.
 * @module
 */
import type { AttemptRunner } from "../attempt/attempt_runner.ts";
import type { Revocation } from "../control/revoked_set.ts";
import type { Clock } from "../clock.ts";
import type { TaskEvents } from "../events/task_events.ts";
import type { ReleaseLimits } from "../limits/task_limits.ts";
import type { Logger } from "../log/logger.ts";
import type { TaskDefinition } from "../plugin/task_plugin.ts";
import type { RetryPolicy } from "../retry/retry_policy.ts";
import type { TaskQueueOptions, Transport } from "../transport/transport.ts";
import type { HeldMessages } from "./held_messages.ts";
import type { InFlightTasks } from "./in_flight.ts";
import type { WorkerMetrics } from "./metrics.ts";

/** A task this worker runs, with its retry policy built once. */
export interface RunnableTask {
  task: TaskDefinition;
  policy: RetryPolicy;
}

/** Everything a delivery handler needs, passed in by the worker. */
export interface DeliveryDeps {
  transport: Transport;
  /** The tasks this worker runs, by task name. */
  tasks: ReadonlyMap<string, RunnableTask>;
  /** The queues this worker consumes: never a place for a result. */
  queues: ReadonlySet<string>;
  /** How the task queues are declared (to declare `<queue>.dead` again if it vanished). */
  queueOptions(queue: string): TaskQueueOptions;
  workerName: string;
  logger: Logger;
  metrics: WorkerMetrics;
  maxMessageBytes: number;
  /** A message back this many times after a worker died holding it is poison; 0: never. */
  maxRedeliveries: number;
  /** Aborts when the worker stops for good: running attempts end and their messages go back. */
  stopSignal: AbortSignal;
  /** Aborts when the worker stops taking work: tasks still waiting to start go back. */
  intakeSignal: AbortSignal;
  /** The fleet-wide limits of its tasks: a limited task waits here before it starts. */
  limits: {
    limits(task: string): boolean;
    acquire(task: string, signal: AbortSignal): Promise<ReleaseLimits>;
  };
  /** Runs the plugins: in hosts for `dts worker`, inline in tests. */
  runner: AttemptRunner;
  inFlight: InFlightTasks;
  /** The tasks revoked fleet-wide: not run when they arrive. */
  revoked: { get(taskId: string): Revocation | undefined };
  held: HeldMessages;
  /** Celery's task events (`worker.events`). @default none sent */
  events?: TaskEvents;
  clock: Clock;
  /** `clock.now()`, for the result messages. */
  now(): number;
}
