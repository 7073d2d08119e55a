/**
 * A minimal AMQP 0-9-1 publisher that writes the content header exactly as
 * given: for hostile input that no well-behaved client would encode (a header
 * nested 20,000 levels deep, an unknown field type). It speaks just enough of
 * the protocol: PLAIN login, one channel in confirm mode, basic.publish.
 * @module
 */
import { concatBytes } from "../../src/bytes.ts";

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 0xce;

/** One frame off the wire. */
interface Frame {
  type: number;
  channel: number;
  payload: Uint8Array;
}

/** Bytes of an AMQP field value or table, built by hand. */
export class FieldBytes {
  #parts: Uint8Array[] = [];

  /** Append raw bytes. */
  raw(bytes: Uint8Array): this {
    this.#parts.push(bytes);
    return this;
  }

  /** Append an octet. */
  octet(value: number): this {
    return this.raw(Uint8Array.of(value));
  }

  /** Append a big-endian uint32. */
  uint32(value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value);
    return this.raw(bytes);
  }

  /** Append a short string (length octet + UTF-8). */
  shortString(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.octet(bytes.length).raw(bytes);
  }

  /** Append a long string field value (`S`). */
  longStringValue(text: string): this {
    const bytes = new TextEncoder().encode(text);
    return this.octet(0x53).uint32(bytes.length).raw(bytes);
  }

  /** All bytes so far. */
  bytes(): Uint8Array {
    return concatBytes(this.#parts);
  }
}

/** A field value (`A`) of `depth` arrays nested in each other, the innermost empty; built without recursion. */
export function nestedArrayValue(depth: number): Uint8Array {
  const out = new Uint8Array(depth * 5);
  const view = new DataView(out.buffer);
  for (let level = 0; level < depth; level++) {
    out[level * 5] = 0x41; // 'A'
    view.setUint32(level * 5 + 1, (depth - level - 1) * 5);
  }
  return out;
}

/** A field table of `entries` (name → encoded field value), with its uint32 length prefix. */
export function fieldTable(entries: Record<string, Uint8Array>): Uint8Array {
  const body = new FieldBytes();
  for (const [name, value] of Object.entries(entries)) body.shortString(name).raw(value);
  const bytes = body.bytes();
  return new FieldBytes().uint32(bytes.length).raw(bytes).bytes();
}

/** What to publish: the headers table is raw bytes (with its length prefix). */
export interface RawMessage {
  exchange?: string;
  routingKey: string;
  /** Encoded headers table, e.g. from `fieldTable()`. */
  headersTable: Uint8Array;
  contentType?: string;
  correlationId?: string;
  replyTo?: string;
  persistent?: boolean;
  body: Uint8Array;
}

/**
 * Publish one message with hand-made headers and wait for the broker's confirm.
 * @throws {Error} when the broker refuses the message or closes the channel
 */
export async function publishRaw(url: string, message: RawMessage): Promise<void> {
  const target = new URL(url);
  const conn = await Deno.connect({
    hostname: target.hostname,
    port: Number(target.port || 5672),
  });
  const frames = new FrameReader(conn);
  try {
    await conn.write(new TextEncoder().encode("AMQP\x00\x00\x09\x01"));
    await frames.expectMethod(10, 10); // connection.start
    const user = decodeURIComponent(target.username || "guest");
    const password = decodeURIComponent(target.password || "guest");
    await sendMethod(
      conn,
      0,
      10,
      11,
      new FieldBytes().uint32(0).shortString("PLAIN").raw(longString(`\0${user}\0${password}`))
        .shortString("en_US").bytes(),
    );
    const tune = await frames.expectMethod(10, 30);
    const frameMax = new DataView(tune.buffer, tune.byteOffset).getUint32(2);
    await sendMethod(
      conn,
      0,
      10,
      31,
      concatBytes([tune.subarray(0, 6), Uint8Array.of(0, 0)]), // the server's channel-max and frame-max, no heartbeat
    );
    const vhost = decodeURIComponent(target.pathname.slice(1)) || "/";
    await sendMethod(
      conn,
      0,
      10,
      40,
      new FieldBytes().shortString(vhost).octet(0).octet(0).bytes(),
    );
    await frames.expectMethod(10, 41);
    await sendMethod(conn, 1, 20, 10, new FieldBytes().octet(0).bytes()); // channel.open
    await frames.expectMethod(20, 11);
    await sendMethod(conn, 1, 85, 10, Uint8Array.of(0)); // confirm.select
    await frames.expectMethod(85, 11);
    await sendMethod(
      conn,
      1,
      60,
      40,
      new FieldBytes().raw(Uint8Array.of(0, 0)).shortString(message.exchange ?? "")
        .shortString(message.routingKey).octet(0).bytes(),
    );
    const header = contentHeader(message);
    if (header.length + 8 > frameMax) {
      throw new Error(`content header of ${header.length} bytes exceeds frame-max ${frameMax}`);
    }
    await conn.write(frame(FRAME_HEADER, 1, header));
    await conn.write(frame(FRAME_BODY, 1, message.body));
    await frames.expectMethod(60, 80); // basic.ack
    await sendMethod(
      conn,
      0,
      10,
      50,
      new FieldBytes().raw(Uint8Array.of(0, 200)).shortString("")
        .raw(Uint8Array.of(0, 0, 0, 0)).bytes(),
    );
    await frames.expectMethod(10, 51).catch(() => {});
  } finally {
    conn.close();
  }
}

function contentHeader(message: RawMessage): Uint8Array {
  let flags = 0x2000; // headers
  const props = new FieldBytes();
  if (message.contentType !== undefined) flags |= 0x8000;
  if (message.persistent) flags |= 0x1000;
  if (message.correlationId !== undefined) flags |= 0x0400;
  if (message.replyTo !== undefined) flags |= 0x0200;
  if (message.contentType !== undefined) props.shortString(message.contentType);
  props.raw(message.headersTable);
  if (message.persistent) props.octet(2);
  if (message.correlationId !== undefined) props.shortString(message.correlationId);
  if (message.replyTo !== undefined) props.shortString(message.replyTo);
  const head = new Uint8Array(14);
  const view = new DataView(head.buffer);
  view.setUint16(0, 60);
  view.setBigUint64(4, BigInt(message.body.length));
  view.setUint16(12, flags);
  return concatBytes([head, props.bytes()]);
}

function longString(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  return new FieldBytes().uint32(bytes.length).raw(bytes).bytes();
}

function frame(type: number, channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 8);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint16(1, channel);
  view.setUint32(3, payload.length);
  out.set(payload, 7);
  out[payload.length + 7] = FRAME_END;
  return out;
}

async function sendMethod(
  conn: Deno.Conn,
  channel: number,
  classId: number,
  methodId: number,
  args: Uint8Array,
): Promise<void> {
  const payload = new Uint8Array(4 + args.length);
  const view = new DataView(payload.buffer);
  view.setUint16(0, classId);
  view.setUint16(2, methodId);
  payload.set(args, 4);
  await conn.write(frame(FRAME_METHOD, channel, payload));
}

class FrameReader {
  #conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The arguments of the next method frame; throws if it is another method (e.g. a close). */
  async expectMethod(classId: number, methodId: number): Promise<Uint8Array> {
    for (;;) {
      const next = await this.#next();
      if (next.type !== FRAME_METHOD) continue;
      const view = new DataView(next.payload.buffer, next.payload.byteOffset);
      const [gotClass, gotMethod] = [view.getUint16(0), view.getUint16(2)];
      if (gotClass === classId && gotMethod === methodId) return next.payload.subarray(4);
      if ((gotClass === 10 && gotMethod === 50) || (gotClass === 20 && gotMethod === 40)) {
        const text = new TextDecoder().decode(next.payload.subarray(7, 7 + next.payload[6]));
        throw new Error(`broker closed: ${text}`);
      }
    }
  }

  async #next(): Promise<Frame> {
    for (;;) {
      if (this.#buffer.length >= 7) {
        const view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset);
        const size = view.getUint32(3);
        if (this.#buffer.length >= size + 8) {
          const parsed = {
            type: this.#buffer[0],
            channel: view.getUint16(1),
            payload: this.#buffer.slice(7, 7 + size),
          };
          this.#buffer = this.#buffer.slice(size + 8);
          return parsed;
        }
      }
      const chunk = new Uint8Array(65536);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("connection closed by the broker");
      this.#buffer = concatBytes([this.#buffer, chunk.subarray(0, n)]);
    }
  }
}
