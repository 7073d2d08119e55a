/**
 * The JSON body every Celery message kind shares: content type, encoding, size
 * limit and parse, with one `ProtocolError` reason per kind of bad input.
 * Only `application/json` is ever decoded: a pickle body is never unpickled.
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { MessageProps } from "../transport/transport.ts";
import { parseKombuJson, stringifyKombuJson } from "./kombu_json.ts";

/** The only content type dts reads or writes. */
export const JSON_CONTENT_TYPE = "application/json";
/** The only content encoding dts reads or writes. */
export const UTF8_ENCODING = "utf-8";
/** Default largest body `decodeJsonBody` accepts: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Encode a value as a UTF-8 kombu JSON body. */
export function encodeJsonBody(value: unknown): Uint8Array {
  return utf8Encoder.encode(stringifyKombuJson(value));
}

/**
 * Check a body's size, content type and encoding, then parse its JSON.
 * @throws {ProtocolError} "Cannot decode message: <reason>" for each kind of bad input
 */
export function decodeJsonBody(
  body: Uint8Array,
  props: MessageProps,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): unknown {
  if (body.byteLength > maxBytes) {
    throw new ProtocolError(
      `Cannot decode message: body is ${body.byteLength} bytes, over the limit of ${maxBytes} bytes`,
    );
  }
  checkContentType(props.contentType);
  checkContentEncoding(props.contentEncoding);
  let text: string;
  try {
    text = utf8Decoder.decode(body);
  } catch (error) {
    throw new ProtocolError("Cannot decode message: body is not valid UTF-8", { cause: error });
  }
  try {
    return parseKombuJson(text);
  } catch (error) {
    const detail = error instanceof Error ? ` (${error.message})` : "";
    throw new ProtocolError(`Cannot decode message: body is not valid JSON${detail}`, {
      cause: error,
    });
  }
}

function checkContentType(contentType: string | undefined): void {
  if (contentType === JSON_CONTENT_TYPE) return;
  if (contentType === undefined || contentType === "") {
    throw new ProtocolError(
      `Cannot decode message: content type is missing (only ${JSON_CONTENT_TYPE})`,
    );
  }
  // Tolerate case and parameters: "Application/JSON; charset=utf-8".
  if (contentType.split(";", 1)[0].trim().toLowerCase() === JSON_CONTENT_TYPE) return;
  throw new ProtocolError(
    `Cannot decode message: content type "${contentType}" is not supported (only ${JSON_CONTENT_TYPE})`,
  );
}

function checkContentEncoding(encoding: string | undefined): void {
  if (encoding === undefined || encoding === "" || encoding === UTF8_ENCODING) return;
  const normal = encoding.toLowerCase();
  if (normal === "utf-8" || normal === "utf8") return;
  throw new ProtocolError(
    `Cannot decode message: content encoding "${encoding}" is not supported (only ${UTF8_ENCODING})`,
  );
}
