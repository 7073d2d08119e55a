/**
 * What a task span says about its task. OpenTelemetry's messaging semantic
 * conventions where they fit (`messaging.*`); the task name under the key
 * opentelemetry-instrumentation-celery uses, so Celery's spans and dts's
 * filter alike; the rest under `dts.*`.
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import type { TaskMessage } from "../protocol/celery_task_message.ts";

/** Attribute keys of task spans. */
export const ATTR = {
  system: "messaging.system",
  destination: "messaging.destination.name",
  routingKey: "messaging.rabbitmq.destination.routing_key",
  operationName: "messaging.operation.name",
  operationType: "messaging.operation.type",
  messageId: "messaging.message.id",
  conversationId: "messaging.message.conversation_id",
  taskName: "celery.task_name",
  retries: "dts.retries",
  worker: "dts.worker",
  outcome: "dts.outcome",
} as const;

/** dts publishes every task to the default exchange, routed by its queue's name. */
function common(message: TaskMessage, queue: string): Attributes {
  return {
    [ATTR.system]: "rabbitmq",
    [ATTR.destination]: queue,
    [ATTR.routingKey]: queue,
    [ATTR.messageId]: message.id,
    [ATTR.conversationId]: message.rootId,
    [ATTR.taskName]: message.task,
    [ATTR.retries]: message.retries,
  };
}

/** A send span's attributes. */
export function sendAttributes(message: TaskMessage, queue: string): Attributes {
  return { ...common(message, queue), [ATTR.operationName]: "send", [ATTR.operationType]: "send" };
}

/** An attempt span's attributes, but for its outcome (known at its end). */
export function attemptAttributes(message: TaskMessage, queue: string, worker: string): Attributes {
  return {
    ...common(message, queue),
    [ATTR.operationName]: "process",
    [ATTR.operationType]: "process",
    [ATTR.worker]: worker,
  };
}
