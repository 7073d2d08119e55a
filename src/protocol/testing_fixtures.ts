/**
 * Test helper: the Celery 5.2.6 wire captures in `shared/fixtures/celery/`
 * (see the README there), turned into what the transport hands us.
 * @module
 */

import type { MessageProps } from "../transport/transport.ts";

const FIXTURES_DIR = new URL("../../../shared/fixtures/celery/", import.meta.url);

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

/** Read `shared/fixtures/celery/<name>.json`. */
export function loadFixture(name: string): CeleryFixture {
  return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES_DIR)));
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
