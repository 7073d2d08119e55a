/**
 * Who may see the dashboard. Without a token only this host can reach it
 * (it binds 127.0.0.1) and requests naming another Host are refused, so a
 * web page elsewhere cannot reach it through DNS rebinding. With a token
 * every request needs it: an `Authorization: Bearer` header, or the cookie
 * set when the page was opened once as `/?token=…` (the token then leaves
 * the address bar at once). The token itself is never written into a page.
 * @module
 */

/** The cookie that carries the token after `?token=`. */
export const TOKEN_COOKIE = "dts_ui_token";

/** What the auth check decided. */
export type AuthDecision =
  | { type: "allow" }
  /** Answer with this (a redirect setting the cookie, or a refusal). */
  | { type: "respond"; response: Response };

/** Settings of the check. */
export interface AuthSettings {
  /** null: no token (loopback only). */
  token: string | null;
  /** Whether the server is bound to a loopback address. */
  loopback: boolean;
}

/** Whether a bind address is loopback: only this host can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Decide one request. */
export async function checkAuth(request: Request, settings: AuthSettings): Promise<AuthDecision> {
  const url = new URL(request.url);
  if (settings.token === null) {
    const host = (request.headers.get("host") ?? "").replace(/:\d+$/, "");
    if (settings.loopback && host !== "" && !isLoopbackHost(host)) {
      return refuse(403, `Host "${host}" is not this machine's loopback address`);
    }
    return { type: "allow" };
  }
  const offered = url.searchParams.get("token");
  if (offered !== null && request.method === "GET") {
    if (!await sameSecret(offered, settings.token)) return refuse(401, "wrong token");
    url.searchParams.delete("token");
    return {
      type: "respond",
      response: new Response(null, {
        status: 303,
        headers: {
          location: url.pathname + url.search,
          "set-cookie": `${TOKEN_COOKIE}=${
            encodeURIComponent(settings.token)
          }; HttpOnly; SameSite=Strict; Path=/`,
          "cache-control": "no-store",
        },
      }),
    };
  }
  const given = bearerToken(request) ?? cookieToken(request);
  if (given === null) return refuse(401, "this dashboard needs a token: open it as /?token=…");
  if (!await sameSecret(given, settings.token)) return refuse(401, "wrong token");
  return { type: "allow" };
}

/**
 * Compare secrets in constant time: both are hashed first (SHA-256), so the
 * comparison takes the same time whatever their lengths and contents.
 */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const [p, q] = [new Uint8Array(x), new Uint8Array(y)];
  let diff = 0;
  for (let i = 0; i < p.length; i++) diff |= p[i] ^ q[i];
  return diff === 0;
}

/**
 * Whether a state-changing request comes from the dashboard itself: JSON
 * (which a cross-site form cannot send without a preflight) and, when the
 * browser names an Origin, this server's own.
 */
export function isSameOriginWrite(request: Request): boolean {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) return false;
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  try {
    return new URL(origin).host === request.headers.get("host");
  } catch {
    return false;
  }
}

function bearerToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer\s+(.+)$/i);
  return match ? match[1].trim() : null;
}

function cookieToken(request: Request): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(rest.join("="));
      } catch {
        return null;
      }
    }
  }
  return null;
}

function refuse(status: number, reason: string): AuthDecision {
  return {
    type: "respond",
    response: new Response(`${reason}\n`, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    }),
  };
}
