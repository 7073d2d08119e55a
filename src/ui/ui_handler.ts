/**
 * The dashboard's HTTP surface, as one `(Request) => Response` function for
 * `Deno.serve` (tests call it directly):
 *
 * - `GET /` the page, `GET /assets/dashboard.js` its script
 * - `GET /api/events` server-sent events: a `snapshot`, then `tasks`,
 *   `workers`, `queues`, `series`, `deadLetters` and `results` as they change
 * - `GET /api/snapshot`, `GET /api/tasks?q=…` (search by id or name),
 *   `GET /api/results/<file>` (one saved dispatch results file)
 * - `POST /api/dlq/replay`, `POST /api/dlq/purge` `{ "queue": "queue_a" }`,
 *   `POST /api/revoke` `{ "id": "…", "terminate": true }`: the code paths of
 *   `dts dlq replay|purge` and `dts revoke`
 * @module
 */
import { concatBytes } from "../bytes.ts";
import { revokeTasks } from "../client/revoke_tasks.ts";
import { purgeDeadLetters, replayDeadLetters } from "../dlq/dead_letter_queue.ts";
import type { TaskRoute } from "../plugin/resolve_tasks.ts";
import type { EventStore } from "./event_store.ts";
import type { FleetMonitor } from "./fleet_monitor.ts";
import { dashboardHtml } from "./page_html.ts";
import { RESULTS_FILE } from "./results_listing.ts";
import type { SseHub } from "./sse_hub.ts";
import { readAsset } from "./ui_assets.ts";
import { type AuthSettings, checkAuth, isSameOriginWrite } from "./ui_auth.ts";

/** What the handler serves from. */
export interface UiHandlerDeps {
  monitor: FleetMonitor;
  store: EventStore;
  hub: SseHub;
  routes: readonly TaskRoute[];
  auth: AuthSettings;
  resultsDir: string;
  /** Hears of each action taken (for the log). */
  onAction?: (what: string, fields: Record<string, unknown>) => void;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
};

/** Build the handler. */
export function createUiHandler(deps: UiHandlerDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const decision = await checkAuth(request, deps.auth);
    if (decision.type === "respond") return decision.response;
    try {
      return await route(request, deps);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return json({ error: message }, 502);
    }
  };
}

async function route(request: Request, deps: UiHandlerDeps): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  if (request.method === "GET") {
    if (path === "/") return text(dashboardHtml(), "text/html; charset=utf-8");
    if (path === "/assets/dashboard.js") {
      return text(await readAsset("dashboard.js"), "text/javascript; charset=utf-8");
    }
    if (path === "/healthz") return text("ok\n", "text/plain; charset=utf-8");
    if (path === "/api/events") {
      return deps.hub.open({ event: "snapshot", data: await deps.monitor.snapshot() });
    }
    if (path === "/api/snapshot") return json(await deps.monitor.snapshot());
    if (path === "/api/tasks") {
      const q = url.searchParams.get("q") ?? "";
      return json(deps.store.tasks({ text: q.trim() || undefined, limit: 300 }));
    }
    const file = path.match(/^\/api\/results\/([^/]+)$/)?.[1];
    if (file !== undefined) return await resultsFile(deps.resultsDir, decodeSegment(file));
    return json({ error: "not found" }, 404);
  }
  if (request.method === "POST") {
    if (!isSameOriginWrite(request)) return json({ error: "cross-site or non-JSON write" }, 403);
    const body = await readJsonObject(request);
    if (body === "too large") {
      return json({ error: `body over ${MAX_BODY_BYTES} bytes` }, 413);
    }
    if (body === null) return json({ error: "body must be a JSON object" }, 400);
    if (path === "/api/dlq/replay" || path === "/api/dlq/purge") {
      const target = deps.routes.find((r) => r.queue === body.queue);
      if (!target) return json({ error: `unknown queue ${JSON.stringify(body.queue)}` }, 400);
      const replay = path.endsWith("replay");
      const count = await deps.monitor.withBroker((transport) =>
        replay
          ? replayDeadLetters(transport, target.queue)
          : purgeDeadLetters(transport, target.queue)
      );
      deps.onAction?.(replay ? "replayed dead letters" : "purged dead letters", {
        queue: target.queue,
        count,
      });
      await deps.monitor.refreshDeadLetters();
      return json(replay ? { replayed: count } : { purged: count });
    }
    if (path === "/api/revoke") {
      if (typeof body.id !== "string" || !/^[\w.:-]{1,200}$/.test(body.id)) {
        return json({ error: "id must be a task id" }, 400);
      }
      const id = body.id;
      const terminate = body.terminate === true;
      const outcome = await deps.monitor.withBroker((transport) =>
        revokeTasks(transport, [id], { terminate, reason: "revoked from dts ui" })
      );
      deps.onAction?.("revoked a task", { id, terminate, stored: outcome.stored });
      return json({ revoked: id, terminate, stored: outcome.stored, problem: outcome.problem });
    }
    return json({ error: "not found" }, 404);
  }
  return json({ error: "method not allowed" }, 405);
}

/** The buttons send a few fields: a bigger body is not theirs, and is not read into memory. */
const MAX_BODY_BYTES = 64 * 1024;

/** The request's JSON object; null when it is not one; "too large" past `MAX_BODY_BYTES`. */
async function readJsonObject(
  request: Request,
): Promise<Record<string, unknown> | null | "too large"> {
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) return "too large";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) return "too large";
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(new TextDecoder().decode(concatBytes(chunks)));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** A path segment decoded; a malformed escape (`%zz`) stays as written, and matches no file. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function resultsFile(dir: string, file: string): Promise<Response> {
  if (!RESULTS_FILE.test(file)) return json({ error: "not a results file" }, 404);
  try {
    return text(await Deno.readTextFile(`${dir}/${file}`), "application/json; charset=utf-8");
  } catch {
    return json({ error: "not found" }, 404);
  }
}

function text(body: string, type: string, status = 200): Response {
  return new Response(body, {
    status,
    headers: { "content-type": type, "cache-control": "no-store", ...SECURITY_HEADERS },
  });
}

function json(value: unknown, status = 200): Response {
  return text(JSON.stringify(value), "application/json; charset=utf-8", status);
}
