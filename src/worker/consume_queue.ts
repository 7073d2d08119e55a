/**
 * One task queue consumed for a worker's whole life. When the broker
 * cancels the consumer (the queue was deleted; in a cluster, the queue's
 * node went down) the loop declares the queue again and resumes with
 * backoff, instead of ending the worker; readiness says it is not consuming
 * meanwhile. Its prefetch follows the pool's size unless it is fixed.
 * @module
 */
import type { Clock } from "../clock.ts";
import { toErrorInfo } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { type Backoff, backoffDelayMs } from "../retry/backoff.ts";
import type { Consumer, Delivery, TaskQueueOptions, Transport } from "../transport/transport.ts";
import { holdTurn, type PoolSize, type PoolTurn, prefetchForPool } from "./pool_size.ts";

/** How to consume one queue. */
export interface ConsumeQueueOptions {
  transport: Transport;
  queue: string;
  queueOptions: TaskQueueOptions;
  /** A fixed prefetch; null: one message per slot of the pool, following its size. */
  prefetch: number | null;
  /** Aborts when the worker stops consuming. */
  signal: AbortSignal;
  /** Shared by every queue of the worker: attempts in flight. */
  pool: PoolSize;
  /** Handle one delivery, holding `turn` of the pool; never rejects. */
  handle(delivery: Delivery, turn: PoolTurn): Promise<void>;
  /** A delivery the consumer had buffered when its channel died. */
  onReturned(delivery: Delivery): void;
  /** Whether the consumer runs now. */
  onConsuming(consuming: boolean, why?: string): void;
  /** Jobs in flight, so a stop can wait for them. */
  jobs: Set<Promise<void>>;
  logger: Logger;
  clock: Clock;
}

/** Waits between attempts to consume again: 100 ms doubling to 5 s. */
const RESUME: Backoff = { baseMs: 100, maxMs: 5000, jitter: "full" };

/** Consume until the signal aborts or the transport closes. */
export async function consumeQueue(options: ConsumeQueueOptions): Promise<void> {
  const { transport, queue, signal, logger } = options;
  for (let failures = 0; !signal.aborted;) {
    options.onConsuming(true);
    let unfollow = noop;
    try {
      const deliveries = transport.consume(queue, {
        prefetch: options.prefetch ?? prefetchForPool(options.pool.size),
        signal,
        onReturned: options.onReturned,
      });
      unfollow = followPool(deliveries, options);
      for await (const delivery of deliveries) {
        failures = 0;
        await take(delivery, options);
      }
      return; // stopped, or the transport closed
    } catch (error) {
      if (signal.aborted) return;
      failures++;
      const why = toErrorInfo(error).message;
      options.onConsuming(false, why);
      const waitMs = backoffDelayMs(failures - 1, RESUME);
      logger.warn("Stopped consuming a queue; declaring it again and resuming", {
        queue,
        error: why,
        attempt: failures,
        delay_ms: waitMs,
      });
      await options.clock.sleep(waitMs, signal).catch(() => {});
      if (signal.aborted) return;
      await transport.assertTaskQueue(queue, options.queueOptions).catch((declareError) =>
        logger.warn("Cannot declare the queue again yet", {
          queue,
          error: toErrorInfo(declareError).message,
        })
      );
    } finally {
      unfollow();
    }
  }
}

const noop = (): void => {};

/** Keep the consumer's prefetch at one message per slot while the pool changes; the unsubscribe. */
function followPool(consumer: Consumer, options: ConsumeQueueOptions): () => void {
  if (options.prefetch !== null) return noop;
  return options.pool.onResize((size) => {
    const prefetch = prefetchForPool(size);
    consumer.setPrefetch(prefetch).catch((error) =>
      options.logger.warn("Cannot change the prefetch of a queue's consumer", {
        queue: options.queue,
        prefetch,
        error: toErrorInfo(error).message,
      })
    );
  });
}

async function take(delivery: Delivery, options: ConsumeQueueOptions): Promise<void> {
  const slots = options.pool.slots;
  try {
    await slots.acquire(options.signal);
  } catch {
    // Stopping: a prefetched message that never started goes straight back, uncounted
    // (at once: a pool shrunk to 0 slots would never hand this one a slot).
    await delivery.release().catch(noop);
    return;
  }
  if (options.signal.aborted) {
    slots.release();
    await delivery.release().catch(noop);
    return;
  }
  const turn = holdTurn(slots);
  const job = options.handle(delivery, turn).finally(() => {
    turn.end();
    options.jobs.delete(job);
  });
  options.jobs.add(job);
}
