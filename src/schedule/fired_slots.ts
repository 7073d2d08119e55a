/**
 * Where a schedule's last fired slot is kept on the broker: a queue of one
 * message (`maxLength: 1`, drop-head), so writing the next slot replaces the
 * last. A new leader reads it before it fires anything, and so neither
 * fires a slot again nor skips one.
 * @module
 */
import type { QueueOptions, Transport } from "../transport/transport.ts";

/** The last-fired record of schedule `name`. */
export function firedQueueName(name: string): string {
  return `dts.schedule.${name}.fired`;
}

/** The claim queue whose holder fires schedule `name`. */
export function scheduleLeaderQueueName(name: string): string {
  return `dts.schedule.${name}.leader`;
}

const FIRED_QUEUE: QueueOptions = { durable: true, maxLength: 1 };

/** The slot schedule `name` fired last (epoch ms), or null when it never fired or the record is unreadable. */
export async function readLastFired(transport: Transport, name: string): Promise<number | null> {
  const queue = firedQueueName(name);
  await transport.assertQueue(queue, FIRED_QUEUE);
  const record = await transport.get(queue);
  if (record === null) return null;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(record.body)) as { slot?: unknown };
    const slot = typeof parsed.slot === "string" ? Date.parse(parsed.slot) : NaN;
    return Number.isFinite(slot) ? slot : null;
  } catch {
    return null;
  } finally {
    // Put back for the next leader: reading takes nothing away.
    await record.requeue();
  }
}

/** Record that schedule `name` fires `slotMs`; resolves once the broker has it. */
export async function recordFired(
  transport: Transport,
  name: string,
  slotMs: number,
  taskId: string,
): Promise<void> {
  const body = new TextEncoder().encode(
    JSON.stringify({ slot: new Date(slotMs).toISOString(), task_id: taskId }),
  );
  await transport.publish(firedQueueName(name), body, {
    persistent: true,
    contentType: "application/json",
  });
}
