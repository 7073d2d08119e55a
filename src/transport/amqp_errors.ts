/**
 * Turning amqplib's errors into `BrokerError`s.
 * @module
 */

import { BrokerError, toError } from "../errors.ts";
import { redactText } from "../log/redact.ts";

/** The AMQP reply code of a driver error (404, 406…), if it has one. */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Wrap a driver error; 4xx channel errors (not found, precondition failed…) are not recoverable. */
export function brokerError(action: string, error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  const cause = toError(error);
  const code = errorCode(cause);
  return new BrokerError(`Cannot ${action}: ${redactText(cause.message)}`, {
    cause,
    recoverable: code === undefined || code < 400 || code >= 500,
  });
}
