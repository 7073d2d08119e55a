/**
 * The event emitter of a command that sends tasks (`dts dispatch`,
 * `dts load`), named as Celery names an anonymous sender: `gen<pid>@<host>`.
 * @module
 */

import type { Transport } from "../transport/transport.ts";
import { EventEmitter } from "./event_emitter.ts";

/** Celery's `anon_nodename()`: the node name of a process that is no worker. */
export function senderNodeName(): string {
  let host = "localhost";
  try {
    host = Deno.hostname();
  } catch {
    // No sys permission for the host name: the name still tells senders apart by pid.
  }
  return `gen${Deno.pid}@${host}`;
}

/** An emitter for `task-sent` events with `celeryev` declared, or null when events are off. */
export async function openSenderEvents(
  transport: Transport,
  enabled: boolean,
): Promise<EventEmitter | null> {
  if (!enabled) return null;
  const emitter = new EventEmitter({ transport, hostname: senderNodeName() });
  await emitter.prepare();
  return emitter;
}
