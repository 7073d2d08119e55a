/**
 * When a delivery's outcome could not be recorded: never leave the message
 * unsettled. An unsettled message holds a prefetch slot until the channel
 * closes, which may be never; a few of them stall a worker that still looks
 * healthy. The broker redelivers on its own only when the channel is gone.
 * @module
 */
import { BrokerError, toErrorInfo } from "../errors.ts";
import type { Delivery } from "../transport/transport.ts";
import type { DeliveryDeps } from "./delivery_deps.ts";
import { deadLetterSafely } from "./reject_message.ts";

/**
 * Settle `delivery` after `error`: a lasting error (the broker refused what
 * we sent, a bug) dead-letters it with the reason; a passing one (the
 * connection went, a confirm timed out) releases it for another try; if even
 * that fails, requeue; if that fails the channel is gone and the broker has
 * the message back. Resolves to whether the delivery got settled here; never rejects.
 */
export async function settleAfterError(
  delivery: Delivery,
  error: unknown,
  deps: DeliveryDeps,
): Promise<boolean> {
  const { logger } = deps;
  const info = toErrorInfo(error);
  if (delivery.settled) {
    logger.error("A message was settled, but recording its task's outcome failed", {
      queue: delivery.queue,
      error: info.message,
    });
    return false;
  }
  const passing = error instanceof BrokerError && error.recoverable;
  try {
    if (passing) {
      await delivery.release();
      logger.warn("Cannot record a task's outcome now; its message goes back to the queue", {
        queue: delivery.queue,
        error: info.message,
      });
    } else {
      const reason = `Cannot record the task's outcome: ${info.type}: ${info.message}`;
      await deadLetterSafely(delivery, {
        reason,
        headers: {
          "x-dts-error-type": info.type,
          "x-dts-error-message": info.message,
          "x-dts-worker": deps.workerName,
        },
      }, deps);
      logger.error("Cannot record a task's outcome; dead-lettered its message", {
        queue: delivery.queue,
        error: info.message,
      });
    }
    return true;
  } catch (second) {
    if (!delivery.settled) {
      const requeued = await delivery.requeue().then(() => true, () => false);
      if (requeued) return true;
    }
    logger.error("Cannot settle a message; the broker redelivers it when its channel closes", {
      queue: delivery.queue,
      error: info.message,
      settle_error: toErrorInfo(second).message,
    });
    return false;
  }
}
