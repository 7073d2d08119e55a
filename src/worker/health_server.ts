/**
 * The worker's HTTP health endpoints (SPEC "Health and metrics"), as a plain
 * `Request -> Response` handler so tests need no socket.
 * @module
 */

/** What the health handler asks the worker. */
export interface HealthState {
  /** True while connected to the broker and consuming. */
  ready(): boolean;
  /** Why the worker is not ready, shown in the 503 body. */
  reason?(): string;
  /** Prometheus text exposition (format 0.0.4). */
  metrics(): string;
}

/** Content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const TEXT = "text/plain; charset=utf-8";

/** A path the health handler can serve. */
export type HealthPath = "/healthz" | "/readyz" | "/metrics";

/** Every path, for one server that serves them all. */
export const ALL_HEALTH_PATHS: readonly HealthPath[] = Object.freeze([
  "/healthz",
  "/readyz",
  "/metrics",
]);

/**
 * Serve `GET /healthz` (200 while the process answers), `GET /readyz` (200 when
 * `state.ready()`, else 503 with the reason) and `GET /metrics`; HEAD works
 * wherever GET does, other methods get 405 and other paths 404. `paths`
 * limits what this handler serves (e.g. `/metrics` on its own address).
 */
export function createHealthHandler(
  state: HealthState,
  options: { paths?: readonly HealthPath[] } = {},
): (request: Request) => Response {
  const paths: ReadonlySet<string> = new Set(options.paths ?? ALL_HEALTH_PATHS);
  return (request: Request): Response => {
    const { pathname } = new URL(request.url);
    const route = paths.has(pathname) ? ROUTES[pathname] : undefined;
    if (route === undefined) return text(request, { status: 404, body: "not found\n" });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(request, {
        status: 405,
        body: "method not allowed\n",
        headers: { allow: "GET, HEAD" },
      });
    }
    try {
      return route(state, request);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return text(request, { status: 500, body: `Cannot answer ${pathname}: ${message}\n` });
    }
  };
}

const ROUTES: Record<string, (state: HealthState, request: Request) => Response> = {
  // Answering at all is the proof that the event loop responds.
  "/healthz": (_state, request) => text(request, { status: 200, body: "ok\n" }),
  "/readyz": (state, request) => {
    if (state.ready()) return text(request, { status: 200, body: "ready\n" });
    const reason = state.reason?.() ?? "";
    const body = `not ready${reason === "" ? "" : `: ${reason}`}\n`;
    return text(request, { status: 503, body });
  },
  "/metrics": (state, request) =>
    text(request, { status: 200, body: state.metrics(), contentType: METRICS_CONTENT_TYPE }),
};

/** A plain answer; HEAD gets the headers only. */
function text(
  request: Request,
  answer: { status: number; body: string; contentType?: string; headers?: Record<string, string> },
): Response {
  const { status, body } = answer;
  const headers = {
    "content-type": answer.contentType ?? TEXT,
    "cache-control": "no-store",
    ...answer.headers,
  };
  return new Response(request.method === "HEAD" ? null : body, { status, headers });
}

/** Options of `serveHealth`. */
export interface ServeHealthOptions {
  /** Address to listen on, e.g. `0.0.0.0`. */
  hostname: string;
  /**
   * Port to listen on. SPEC's `--health-port 0` means "off": the caller then
   * does not call `serveHealth` at all. Passing 0 here asks the OS for a free
   * port (useful in tests); `onListen` tells which.
   */
  port: number;
  /** Called once listening, with the actual address. */
  onListen?: (addr: { hostname: string; port: number }) => void;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
}

/** Listen with `Deno.serve`; stop it with `server.shutdown()` or the signal. */
export function serveHealth(
  handler: (request: Request) => Response | Promise<Response>,
  options: ServeHealthOptions,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: options.signal,
    onListen: (addr) => options.onListen?.({ hostname: addr.hostname, port: addr.port }),
  }, handler);
}
