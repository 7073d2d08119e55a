/**
 * Test helper: the Celery 5.2 wire captures in `tests/fixtures/celery/`, made
 * by `scripts/capture_celery_fixtures.py` from a real Celery client, worker
 * and CLI, turned into what the transport hands us.
 * @module
 */

import type { MessageProps } from "../../src/transport/transport.ts";

const FIXTURES_DIR = new URL("../fixtures/celery/", import.meta.url);

/** One captured message, as stored in a fixture file. */
export interface CeleryFixture {
  exchange: string;
  routing_key: string;
  properties: {
    content_type?: string;
    content_encoding?: string;
    headers: Record<string, unknown>;
    delivery_mode?: number;
    priority?: number;
    correlation_id?: string;
    reply_to?: string;
  };
  header_types: Record<string, unknown>;
  body: unknown;
  body_base64: string;
}

/** Read `tests/fixtures/celery/<name>.json`. */
export function loadFixture(name: string): CeleryFixture {
  return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES_DIR)));
}

/** What one capture run used and saw: ids, names, tickets (`index.json` → `context`). */
export interface CaptureContext {
  task_ids: { task_a: string; task_fail: string; task_retry: string };
  worker_name: string;
  rpc_reply_queue: string;
  client_origin: string;
  worker_origin: string;
  retry_eta: string;
  ping_ticket: string;
  ping_reply_routing_key: string;
  ping_expires: number;
  hello_reply_routing_key: string;
}

/** The capture run's context, so tests name its values instead of copying them. */
export function captureContext(): CaptureContext {
  const index = JSON.parse(Deno.readTextFileSync(new URL("index.json", FIXTURES_DIR)));
  return index.context;
}

/** The body bytes exactly as captured. */
export function fixtureBody(fixture: CeleryFixture): Uint8Array {
  const binary = atob(fixture.body_base64);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** The captured AMQP properties as camelCase `MessageProps`. */
export function fixtureProps(fixture: CeleryFixture): MessageProps {
  const p = fixture.properties;
  const props: MessageProps = { headers: structuredClone(p.headers) };
  if (p.content_type !== undefined) props.contentType = p.content_type;
  if (p.content_encoding !== undefined) props.contentEncoding = p.content_encoding;
  if (p.correlation_id !== undefined) props.correlationId = p.correlation_id;
  if (p.reply_to !== undefined) props.replyTo = p.reply_to;
  if (p.priority !== undefined) props.priority = p.priority;
  if (p.delivery_mode !== undefined) props.persistent = p.delivery_mode === 2;
  return props;
}

/** Decode bytes as UTF-8 JSON (for comparing bodies as parsed JSON). */
export function parseBody(body: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(body));
}
