/**
 * Mapping between dts's `MessageProps`/`PublishOptions` and amqplib's
 * message properties, in both directions.
 * @module
 */

import type { MessageProperties, Options } from "amqplib";
import { Buffer } from "node:buffer";
import { toAmqpHeaders } from "./amqp_headers.ts";
import type { MessageProps, PublishOptions } from "../transport.ts";

/** The body as a `Buffer` without copying (amqplib refuses a plain `Uint8Array`). */
export function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** amqplib's publish options: mandatory unless asked otherwise, numbers in headers typed for Celery. */
export function toPublishOptions(options: PublishOptions): Options.Publish {
  const publish: Options.Publish = {
    mandatory: options.mandatory ?? true,
    headers: options.headers === undefined ? {} : toAmqpHeaders(options.headers),
  };
  if (options.contentType !== undefined) publish.contentType = options.contentType;
  if (options.contentEncoding !== undefined) publish.contentEncoding = options.contentEncoding;
  if (options.correlationId !== undefined) publish.correlationId = options.correlationId;
  if (options.replyTo !== undefined) publish.replyTo = options.replyTo;
  if (options.messageId !== undefined) publish.messageId = options.messageId;
  if (options.priority !== undefined) publish.priority = options.priority;
  if (options.persistent) publish.deliveryMode = 2;
  // Said outright, as Celery's events do (delivery_mode 1), rather than left out.
  if (options.persistent === false) publish.deliveryMode = 1;
  return publish;
}

/** The `MessageProps` of a received message: only the fields it carries. */
export function fromAmqpProperties(properties: MessageProperties): MessageProps {
  const props: MessageProps = { headers: properties.headers ?? {} };
  if (properties.contentType !== undefined) props.contentType = properties.contentType;
  if (properties.contentEncoding !== undefined) props.contentEncoding = properties.contentEncoding;
  if (properties.correlationId !== undefined) props.correlationId = properties.correlationId;
  if (properties.replyTo !== undefined) props.replyTo = properties.replyTo;
  if (properties.messageId !== undefined) props.messageId = properties.messageId;
  if (properties.priority !== undefined) props.priority = properties.priority;
  if (properties.deliveryMode === 2) props.persistent = true;
  return props;
}
