/**
 * Keep secrets out of output.
 * @module
 */

/**
 * Show a broker URL with its password replaced by `***`.
 * @example redactUrl("amqp://guest:guest@host:5672/") // "amqp://guest:***@host:5672/"
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s]*)@/i, "$1:***@");
}

/** Replace every URL password found anywhere in a piece of text. */
export function redactText(text: string): string {
  // Most log text holds no URL at all: skip the regex (logs run per task).
  if (!text.includes("://")) return text;
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s/]*)@/gi, "$1:***@");
}
