/**
 * Binding an HTTP port the way an agent on a shared host should: a port the
 * user chose is used or the start fails in one line (exit 2) naming the
 * option; a default port that is busy (a second worker on the host) moves to
 * the next free one, then to one the OS picks.
 * @module
 */
import { UsageError } from "../errors.ts";

/** Where to listen, and whether the user chose it. */
export interface ListenSpec {
  hostname: string;
  port: number;
  /** Chosen by a flag, a `DTS_*` variable or the config file: never moved. */
  given: boolean;
  /** What is served, for messages: `health checks`, `/metrics`. */
  what: string;
  /** The options that set port and host, for messages: `--health-port`, `--health-host`. */
  portOption: string;
  hostOption: string;
}

/** How many ports after a busy default port are tried before asking the OS for one. */
export const FALLBACK_PORTS = 20;

/** Start a server on `port`; must throw synchronously when the port cannot be bound. */
export type Bind = (port: number) => Deno.HttpServer<Deno.NetAddr>;

/**
 * Bind `spec`, moving a busy default port to the next free one (up to
 * `FALLBACK_PORTS` on), then to an OS-assigned one. `onMoved` hears of a move.
 * @throws {UsageError} for a chosen port in use, an address not on this host, or no permission
 */
export function listenHttp(
  spec: ListenSpec,
  bind: Bind,
  onMoved: (from: number, to: number) => void = () => {},
): Deno.HttpServer<Deno.NetAddr> {
  const candidates = spec.given || spec.port === 0 ? [spec.port] : [
    ...Array.from({ length: FALLBACK_PORTS + 1 }, (_, i) => spec.port + i).filter((p) =>
      p <= 65_535
    ),
    0,
  ];
  for (const port of candidates) {
    try {
      const server = bind(port);
      if (port !== spec.port) onMoved(spec.port, server.addr.port);
      return server;
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse && port !== candidates.at(-1)) continue;
      throw listenError(spec, port, error);
    }
  }
  throw new RangeError("Cannot listen: no port to try");
}

function listenError(spec: ListenSpec, port: number, error: unknown): UsageError {
  const where = `Cannot serve ${spec.what} on ${hostPort(spec.hostname, port)}`;
  const options = { cause: error };
  if (error instanceof Deno.errors.AddrInUse) {
    return new UsageError(
      `${where}: the port is in use; choose another with ${spec.portOption} (0 turns it off)`,
      options,
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new UsageError(
      `${where}: this host has no such address; check ${spec.hostOption}`,
      options,
    );
  }
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    const low = port > 0 && port < 1024 ? " (ports below 1024 need privileges)" : "";
    return new UsageError(
      `${where}: permission denied${low}; choose another port with ${spec.portOption}`,
      options,
    );
  }
  const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new UsageError(`${where}: ${reason}; check ${spec.hostOption}`, options);
}

function hostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
