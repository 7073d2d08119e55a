/**
 * A broker "URL" may be a failover list: the nodes of one RabbitMQ cluster,
 * tried in turn (Celery's `broker_url = "amqp://n1//;amqp://n2//"`).
 * Separated by `;` or `,`, but only where the next URL begins, so a password
 * holding a comma or semicolon stays whole.
 * @module
 */

/** A `;` or `,` (with spaces around) that is followed by `scheme://`. */
const SEPARATOR = /\s*[;,]\s*(?=[a-z][a-z0-9+.-]*:\/\/)/i;

/** The URLs of a broker setting, in order; a single URL is a list of one. */
export function splitBrokerUrls(spec: string): string[] {
  return spec.trim().split(SEPARATOR).map((url) => url.trim()).filter((url) => url !== "");
}

/** The scheme of a URL, lower case, or undefined. */
export function schemeOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
}

/**
 * What is wrong with a failover list, or null: every entry must be an
 * `amqp://` or `amqps://` URL once there is more than one (an in-process
 * `memory://` broker has no second node).
 */
export function brokerUrlsProblem(spec: string): string | null {
  const urls = splitBrokerUrls(spec);
  if (urls.length === 0) return "is empty";
  if (urls.length === 1) return null;
  const odd = urls.findIndex((url) => schemeOf(url) !== "amqp" && schemeOf(url) !== "amqps");
  if (odd === -1) return null;
  return `lists ${urls.length} brokers; entry ${
    odd + 1
  } is not amqp:// or amqps:// (only RabbitMQ nodes fail over)`;
}
