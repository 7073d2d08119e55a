/**
 * Why a first connection to RabbitMQ failed, in words an operator can act
 * on. amqplib reports a missing vhost as "Expected ConnectionOpenOk; got
 * <ConnectionClose>", a port that is not AMQP as "Frame size … exceeds
 * maxFrameSize", and so on; this maps each to what is wrong and where.
 * A pure function of the error and the URL; the URL's password never appears.
 * @module
 */
import { redactText, redactUrl } from "../../log/redact.ts";

/** Every node of a failover list failed: each one's error, in the order tried. */
export class NoNodeReachableError extends Error {
  constructor(readonly failures: readonly { url: string; error: unknown }[]) {
    super(`none of ${failures.length} broker nodes could be reached`);
    this.name = "NoNodeReachableError";
  }
}

/** The parts of a broker URL a reason may name. */
interface Target {
  host: string;
  hostPort: string;
  vhost: string;
  user: string;
  tls: boolean;
}

function target(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { host: "?", hostPort: "?", vhost: "/", user: "guest", tls: false };
  }
  const tls = parsed.protocol === "amqps:";
  const port = parsed.port || (tls ? "5671" : "5672");
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const path = parsed.pathname.replace(/^\//, "");
  return {
    host,
    hostPort: `${parsed.hostname}:${port}`,
    // amqplib: an empty path is the default vhost "/".
    vhost: path === "" ? "/" : decodeURIComponent(path),
    user: parsed.username === "" ? "guest" : decodeURIComponent(parsed.username),
    tls,
  };
}

const LOOPBACK = /^(localhost|127(\.\d+){3}|::1)$/;

/**
 * What went wrong connecting to `url`, to follow `Cannot connect to broker "<url>": `.
 * Falls back to the driver's own first line (with any URL password masked).
 */
export function describeConnectError(error: unknown, url: string): string {
  if (error instanceof NoNodeReachableError) {
    return error.failures.map((failure) =>
      `${redactUrl(failure.url)}: ${describeConnectError(failure.error, failure.url)}`
    ).join("; ");
  }
  const t = target(url);
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return `vhost "${t.vhost}" does not exist or user "${t.user}" may not use it (access refused)`;
  }
  if (/ACCESS[-_]REFUSED|\b403\b.*Handshake|Handshake terminated by server: 403/.test(message)) {
    const guest = t.user === "guest" && !LOOPBACK.test(t.host)
      ? '; RabbitMQ lets "guest" in only from localhost'
      : "";
    return `user "${t.user}" was refused: wrong user name or password${guest}`;
  }
  if (
    /Frame size \d+ exceeds maxFrameSize|Expected ConnectionStart|Unknown frame type/i.test(message)
  ) {
    return `the server at ${t.hostPort} does not speak AMQP 0-9-1 (is this the broker's AMQP port, usually 5672?)`;
  }
  if (/Socket closed abruptly during opening handshake/.test(message)) {
    return `the server at ${t.hostPort} closed the connection during the AMQP handshake (not an AMQP 0-9-1 broker, or one refusing connections)`;
  }
  if (code === "ECONNREFUSED") return `nothing listens on ${t.hostPort} (connection refused)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return `cannot resolve host "${t.host}"`;
  }
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `${t.hostPort} is unreachable`;
  if (code === "ECONNRESET") return `the server at ${t.hostPort} reset the connection`;
  if (/wrong version number|ERR_SSL_WRONG_VERSION_NUMBER/.test(`${message} ${String(code)}`)) {
    return `the server at ${t.hostPort} does not speak TLS (use amqp://, or the broker's TLS port, usually 5671)`;
  }
  if (/certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_/i.test(`${message} ${String(code)}`)) {
    return `the TLS certificate of ${t.hostPort} is not trusted (${
      firstLine(message)
    }); give its CA with --cert or DENO_CERT`;
  }
  const timeout = /^no connection after (\d+) ms$/.exec(message);
  if (timeout) return `no AMQP answer from ${t.hostPort} within ${timeout[1]} ms`;
  return firstLine(message);
}

function firstLine(text: string): string {
  return redactText(text.split("\n")[0]);
}

/**
 * Whether a first connection failed because the broker is not reachable
 * yet (not started, restarting, the network not up), which waiting can fix;
 * a refused login, a missing vhost or a server that is not AMQP cannot.
 */
export function isNotReachableYet(error: unknown): boolean {
  if (error instanceof NoNodeReachableError) {
    return error.failures.every((failure) => isNotReachableYet(failure.error));
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"]
    .includes(String(code)) ||
    /^no connection after \d+ ms$|Socket closed abruptly during opening handshake/.test(message);
}
