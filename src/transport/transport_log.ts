/**
 * The log sink a transport reports reconnects and dropped connections to.
 * @module
 */

/** A log sink: level, message, structured fields. */
export type TransportLog = (
  level: "debug" | "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;
