/**
 * A reader of AMQP 0-9-1 basic properties and field tables that never throws
 * and never recurses deeper than `MAX_HEADER_DEPTH`.
 *
 * Why: amqplib decodes headers recursively, so one message with a header
 * nested 20,000 levels deep (RabbitMQ accepts it) overflows the stack while
 * the frame is parsed; the connection drops, the broker redelivers the
 * message, and it kills the next connection too, forever. Here such a header
 * value becomes `null`, and the headers table gains `x-dts-undecodable` with
 * the reason, so the message reaches the worker and is dead-lettered like any
 * other malformed message. Values decode to the same JS shapes as amqplib's.
 * @module
 */

import { Buffer } from "node:buffer";
import { UNDECODABLE_HEADER } from "../transport.ts";

/** Tables and arrays nested deeper than this make the header undecodable (Celery uses 2). */
export const MAX_HEADER_DEPTH = 64;

/** The basic properties, keyed as amqplib's `Message.properties`. */
export type BasicProperties = Record<string, unknown>;

class HeaderProblem extends Error {}

const PROPERTY_STRINGS: readonly [number, string][] = [
  [0x0400, "correlationId"],
  [0x0200, "replyTo"],
  [0x0100, "expiration"],
  [0x0080, "messageId"],
];
const TRAILING_STRINGS: readonly [number, string][] = [
  [0x0010, "userId"],
  [0x0008, "appId"],
  [0x0004, "clusterId"],
];

/**
 * Decode the property flags and property list of a content header frame
 * (the payload after class id, weight and body size).
 * @throws {RangeError} only when the frame is shorter than its flags say,
 *   which a broker never sends; header trouble is reported in the headers
 */
export function decodeBasicProperties(buffer: Buffer): BasicProperties {
  const flags = buffer.readUInt16BE(0);
  if (flags === 0) return {};
  const props: BasicProperties = {
    contentType: undefined,
    contentEncoding: undefined,
    headers: undefined,
    deliveryMode: undefined,
    priority: undefined,
    correlationId: undefined,
    replyTo: undefined,
    expiration: undefined,
    messageId: undefined,
    timestamp: undefined,
    type: undefined,
    userId: undefined,
    appId: undefined,
    clusterId: undefined,
  };
  const reader = new Reader(buffer, 2, buffer.length);
  if (flags & 0x8000) props.contentType = reader.shortString();
  if (flags & 0x4000) props.contentEncoding = reader.shortString();
  if (flags & 0x2000) {
    const length = reader.uint32();
    props.headers = decodeHeaders(buffer, reader.offset, reader.offset + length);
    reader.skip(length);
  }
  if (flags & 0x1000) props.deliveryMode = reader.octet();
  if (flags & 0x0800) props.priority = reader.octet();
  for (const [bit, name] of PROPERTY_STRINGS) if (flags & bit) props[name] = reader.shortString();
  if (flags & 0x0040) props.timestamp = Number(reader.uint64());
  if (flags & 0x0020) props.type = reader.shortString();
  for (const [bit, name] of TRAILING_STRINGS) if (flags & bit) props[name] = reader.shortString();
  return props;
}

/**
 * Decode a headers table in `buffer[start, end)`. A value that cannot be read
 * becomes null and is named under `x-dts-undecodable`; when its end cannot
 * be known (an unknown type), the headers after it are dropped too.
 */
export function decodeHeaders(buffer: Buffer, start: number, end: number): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  const problems: string[] = [];
  const reader = new Reader(buffer, start, Math.min(end, buffer.length));
  while (reader.offset < reader.end) {
    let name: string;
    try {
      name = reader.shortString();
    } catch {
      problems.push("the header table is truncated");
      break;
    }
    const valueStart = reader.offset;
    try {
      table[name] = reader.value(0);
    } catch (error) {
      table[name] = null;
      const why = error instanceof HeaderProblem ? error.message : "is truncated";
      problems.push(`header ${JSON.stringify(name)} ${why}`);
      // A table or array says how long it is: the headers after it are still readable.
      const next = reader.extentOf(valueStart);
      if (next === null) {
        problems.push("the headers after it cannot be read");
        break;
      }
      reader.offset = next;
    }
  }
  if (problems.length > 0) table[UNDECODABLE_HEADER] = problems.join("; ");
  return table;
}

/** A bounds-checked cursor over `buffer[offset, end)`. */
class Reader {
  readonly buffer: Buffer;
  readonly end: number;
  offset: number;

  constructor(buffer: Buffer, offset: number, end: number) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  skip(bytes: number): void {
    this.#need(bytes);
    this.offset += bytes;
  }

  octet(): number {
    this.#need(1);
    return this.buffer[this.offset++];
  }

  uint32(): number {
    this.#need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(): bigint {
    this.#need(8);
    const value = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  shortString(): string {
    const length = this.octet();
    return this.#utf8(length);
  }

  /** Where the value starting at `start` ends, if its type says; null when it cannot be known. */
  extentOf(start: number): number | null {
    const type = String.fromCharCode(this.buffer[start]);
    if ((type === "A" || type === "F") && start + 5 <= this.end) {
      const next = start + 5 + this.buffer.readUInt32BE(start + 1);
      return next <= this.end ? next : null;
    }
    return null;
  }

  /** One field value; tables and arrays nest at most `MAX_HEADER_DEPTH` levels. */
  value(depth: number): unknown {
    const type = String.fromCharCode(this.octet());
    const b = this.buffer;
    switch (type) {
      case "S":
        return this.#utf8(this.uint32());
      case "I":
        return this.#fixed(4, () => b.readInt32BE(this.offset));
      case "i":
        return this.#fixed(4, () => b.readUInt32BE(this.offset));
      case "l":
        return this.#fixed(8, () => Number(b.readBigInt64BE(this.offset)));
      case "L": // RabbitMQ's unsigned 64-bit; amqplib cannot read it at all
        return this.#fixed(8, () => Number(b.readBigUInt64BE(this.offset)));
      case "d":
        return this.#fixed(8, () => b.readDoubleBE(this.offset));
      case "f":
        return this.#fixed(4, () => b.readFloatBE(this.offset));
      case "b":
        return this.#fixed(1, () => b.readInt8(this.offset));
      case "B":
        return this.#fixed(1, () => b.readUInt8(this.offset));
      case "s":
        return this.#fixed(2, () => b.readInt16BE(this.offset));
      case "u":
        return this.#fixed(2, () => b.readUInt16BE(this.offset));
      case "t":
        return this.#fixed(1, () => b[this.offset] !== 0);
      case "V":
        return null;
      case "T":
        return { "!": "timestamp", value: Number(this.uint64()) };
      case "D": {
        const places = this.octet();
        return { "!": "decimal", value: { places, digits: this.uint32() } };
      }
      case "x": {
        const length = this.uint32();
        this.#need(length);
        const bytes = b.subarray(this.offset, this.offset + length);
        this.offset += length;
        return bytes;
      }
      case "A":
      case "F":
        return this.#nested(type, depth + 1);
      default:
        throw new HeaderProblem(`has an unknown field type ${JSON.stringify(type)}`);
    }
  }

  #nested(type: "A" | "F", depth: number): unknown {
    if (depth > MAX_HEADER_DEPTH) {
      throw new HeaderProblem(`nests deeper than ${MAX_HEADER_DEPTH} levels`);
    }
    const length = this.uint32();
    this.#need(length);
    const inner = new Reader(this.buffer, this.offset, this.offset + length);
    this.offset += length;
    if (type === "A") {
      const items: unknown[] = [];
      while (inner.offset < inner.end) items.push(inner.value(depth));
      return items;
    }
    const table: Record<string, unknown> = {};
    while (inner.offset < inner.end) table[inner.shortString()] = inner.value(depth);
    return table;
  }

  #fixed<T>(bytes: number, read: () => T): T {
    this.#need(bytes);
    const value = read();
    this.offset += bytes;
    return value;
  }

  #utf8(length: number): string {
    this.#need(length);
    const text = this.buffer.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return text;
  }

  #need(bytes: number): void {
    if (this.offset + bytes > this.end) throw new RangeError("truncated field table");
  }
}
