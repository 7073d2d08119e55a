/**
 * Content header frames read by `decodeBasicProperties()` instead of
 * amqplib's recursive decoder (see `amqp_field_table.ts` for why).
 *
 * This is a patch of the pinned amqplib (deno.json: `npm:amqplib@2.3.1`),
 * applied per connection, never to the module: the connection's
 * `recvFrame()` takes a complete content header frame off its input buffer
 * (`rest`) itself and hands every other frame, and every incomplete or
 * invalid one, to amqplib's own `recvFrame()`, which reads the socket and
 * calls back into the patched method. It relies on three internals of
 * amqplib's `Connection` (`recvFrame`, `rest`, `maxFrameSize`); a newer
 * amqplib that changes them fails `guardHeaderFrames()` at connect, loudly,
 * and `amqp_header_frames_test.ts` proves the patch on a real broker.
 * @module
 */

import { Buffer } from "node:buffer";
import { type BasicProperties, decodeBasicProperties } from "./amqp_field_table.ts";

const FRAME_HEADER = 2;
const FRAME_END = 0xce;
const BASIC_CLASS = 60;

/** What amqplib's `Connection` has that the patch uses. */
interface FrameSource {
  rest: Buffer;
  maxFrameSize: number;
  recvFrame(): unknown;
}

/** The decoded frame amqplib's channels expect for a content header. */
interface HeaderFrame {
  id: number;
  channel: number;
  size: number;
  fields: BasicProperties;
}

/**
 * Patch the connection under an amqplib `ChannelModel`; call it right after
 * connect, before any channel opens (no content can arrive before then).
 * @throws {TypeError} when amqplib's internals are not what the patch expects
 */
export function guardHeaderFrames(model: unknown): void {
  const connection = (model as { connection?: Partial<FrameSource> } | null)?.connection;
  if (
    connection === undefined || typeof connection.recvFrame !== "function" ||
    !Buffer.isBuffer(connection.rest) || typeof connection.maxFrameSize !== "number"
  ) {
    throw new TypeError(
      "Cannot guard amqplib's header decoding: its Connection internals changed " +
        "(expected recvFrame, rest, maxFrameSize); keep amqplib pinned at the version in deno.json",
    );
  }
  const source = connection as FrameSource;
  const original = source.recvFrame;
  source.recvFrame = function recvFrame(this: FrameSource): unknown {
    const frame = takeHeaderFrame(this);
    return frame ?? original.call(this);
  };
}

/** A complete, valid basic content header frame at the head of `rest`, taken off it; else null. */
function takeHeaderFrame(source: FrameSource): HeaderFrame | null {
  const rest = source.rest;
  if (rest.length < 7 || rest[0] !== FRAME_HEADER) return null;
  const size = rest.readUInt32BE(3);
  const max = source.maxFrameSize;
  // Oversized, incomplete or unterminated: amqplib's own checks and errors apply.
  if ((max > 0 && size > max) || rest.length < size + 8 || rest[size + 7] !== FRAME_END) {
    return null;
  }
  const payload = rest.subarray(7, 7 + size);
  if (payload.length < 14 || payload.readUInt16BE(0) !== BASIC_CLASS) return null;
  source.rest = rest.subarray(size + 8);
  return {
    id: BASIC_CLASS,
    channel: rest.readUInt16BE(1),
    size: Number(payload.readBigInt64BE(4)),
    fields: decodeBasicProperties(payload.subarray(12)),
  };
}
