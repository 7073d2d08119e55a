/**
 * A task queue as `dts status` and `dts ui` show it: depth, consumers and
 * dead letters, read from the broker with two passive declares.
 * @module
 */
import type { TaskRoute } from "../plugin/resolve_tasks.ts";
import { deadLetterQueueName, type Transport } from "../transport/transport.ts";

/** One task queue now. */
export interface QueueStatus {
  task: string;
  queue: string;
  /** null when the queue does not exist yet. */
  messages: number | null;
  consumers: number | null;
  dead: number | null;
}

/** Read `route`'s queue and its dead-letter queue. */
export async function taskQueueStatus(
  transport: Transport,
  route: TaskRoute,
): Promise<QueueStatus> {
  const [queue, dead] = await Promise.all([
    transport.inspectQueue(route.queue),
    transport.inspectQueue(deadLetterQueueName(route.queue)),
  ]);
  return {
    task: route.name,
    queue: route.queue,
    messages: queue?.messages ?? null,
    consumers: queue?.consumers ?? null,
    dead: dead?.messages ?? null,
  };
}
