/**
 * Checks before a dispatch sends anything: which workers serve its queues, and which
 * task queues no worker consumes. They warn; they never stop a dispatch.
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { findServingWorkers, type ServingWorkers } from "../client/serving_workers.ts";

/**
 * Ask the workers which queues they consume (warn when fewer than `expected`
 * serve these queues) and warn about queues nobody consumes (their tasks
 * would wait until the timeout). Resolves to who serves and who answered.
 */
export async function preflight(
  transport: Transport,
  jobQueues: Iterable<string>,
  options: { expected: number | null; logger: Logger },
): Promise<ServingWorkers> {
  const { expected, logger } = options;
  const queues = [...new Set(jobQueues)];
  // Counted: the workers that consume these queues, not every worker alive on the broker.
  const found = await findServingWorkers(transport, queues, {
    timeoutMs: 1000,
    expected: expected ?? undefined,
  });
  if (expected !== null && found.serving.length < expected) {
    logger.warn("Fewer workers serve the jobs' queues than expected", {
      expected,
      serving: found.serving.length,
      workers: found.serving,
      queues,
      answered: found.answered.length,
    });
  }
  for (const queue of queues) {
    const info = await transport.inspectQueue(queue);
    if (info === null || info.consumers === 0) {
      logger.warn("No worker consumes this queue yet; its tasks wait until one does", {
        queue,
        exists: info !== null,
        waiting: info?.messages ?? 0,
      });
    }
  }
  return found;
}
