/**
 * Checks before a dispatch sends anything: who answers a ping, and which
 * task queues no worker consumes. They warn; they never stop a dispatch.
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { Transport } from "../transport/transport.ts";
import { pingWorkers } from "./ping_workers.ts";

/**
 * Ping the workers (warn when fewer than `expected` answer) and warn about
 * queues nobody consumes (their tasks would wait until the timeout).
 * Resolves to the names of the workers that answered.
 */
export async function preflight(
  transport: Transport,
  queues: Iterable<string>,
  options: { expected: number | null; logger: Logger },
): Promise<string[]> {
  const { expected, logger } = options;
  const workers = await pingWorkers(transport, {
    timeoutMs: 1000,
    expected: expected ?? undefined,
  });
  if (expected !== null && workers.length < expected) {
    logger.warn("Fewer workers answered than expected", {
      expected,
      answered: workers.length,
      workers,
    });
  }
  for (const queue of new Set(queues)) {
    const info = await transport.inspectQueue(queue);
    if (info === null || info.consumers === 0) {
      logger.warn("No worker consumes this queue yet; its tasks wait until one does", {
        queue,
        exists: info !== null,
        waiting: info?.messages ?? 0,
      });
    }
  }
  return workers;
}
