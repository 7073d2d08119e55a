import assert from "node:assert/strict";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { openTransport } from "../transport/open_transport.ts";
import { EventStore } from "./event_store.ts";
import { FleetMonitor } from "./fleet_monitor.ts";
import { SseHub } from "./sse_hub.ts";
import { createUiHandler } from "./ui_handler.ts";

async function withHandler(
  token: string | null,
  test: (
    handler: (r: Request) => Promise<Response>,
    deps: { store: EventStore; dir: string },
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const transport = await openTransport("memory://", { memoryBroker: new MemoryBroker() });
  const store = new EventStore(":memory:");
  const hub = new SseHub();
  const routes = [{ key: "a", name: "task_a", queue: "queue_a" }];
  const monitor = new FleetMonitor({
    transport,
    store,
    hub,
    routes,
    retentionMs: 60_000,
    resultsDir: dir,
  });
  try {
    const handler = createUiHandler({
      monitor,
      store,
      hub,
      routes,
      auth: { token, loopback: true },
      resultsDir: dir,
    });
    await test(handler, { store, dir });
  } finally {
    hub.close();
    await monitor.stop();
    store.close();
    await transport.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const local = (path: string, init: RequestInit = {}) =>
  new Request(`http://127.0.0.1:8090${path}`, init);

Deno.test("the dashboard page has a strict CSP, its script, and no token in it", async () => {
  await withHandler("a-long-secret-token", async (handler) => {
    const response = await handler(
      local("/", { headers: { authorization: "Bearer a-long-secret-token" } }),
    );
    assert.equal(response.status, 200);
    const html = await response.text();
    assert.match(html, /<script type="module" src="\/assets\/dashboard\.js">/);
    assert.doesNotMatch(html, /a-long-secret-token/);
    assert.match(response.headers.get("content-security-policy")!, /script-src 'self'/);
    const script = await handler(
      local("/assets/dashboard.js", { headers: { authorization: "Bearer a-long-secret-token" } }),
    );
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type")!, /javascript/);
    assert.ok((await script.text()).length > 1000);
    assert.equal((await handler(local("/"))).status, 401, "no token, no page");
  });
});

Deno.test("the task search finds by id and name; results files are served by listed names only", async () => {
  await withHandler(null, async (handler, { store, dir }) => {
    store.record([
      { type: "task-received", timestamp: 1, uuid: "abc-1", name: "task_a" },
      { type: "task-received", timestamp: 2, uuid: "def-2", name: "task_b" },
    ]);
    const found = await (await handler(local("/api/tasks?q=task_b"))).json();
    assert.deepEqual(found.map((t: { id: string }) => t.id), ["def-2"]);
    await Deno.writeTextFile(`${dir}/dispatch_results_20260101_000000.json`, '{"name":"x"}');
    const file = await handler(local("/api/results/dispatch_results_20260101_000000.json"));
    assert.deepEqual(await file.json(), { name: "x" });
    const escape = await handler(local("/api/results/..%2F..%2Fetc%2Fpasswd"));
    assert.equal(escape.status, 404);
    await escape.body?.cancel();
  });
});

Deno.test("the buttons' endpoints want same-origin JSON and a known queue", async () => {
  await withHandler(null, async (handler) => {
    const form = await handler(
      local("/api/dlq/replay", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "queue=queue_a",
      }),
    );
    assert.equal(form.status, 403);
    await form.body?.cancel();
    const unknown = await handler(
      local("/api/dlq/purge", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ queue: "someone_elses_queue" }),
      }),
    );
    assert.equal(unknown.status, 400);
    await unknown.body?.cancel();
    const replay = await handler(
      local("/api/dlq/replay", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ queue: "queue_a" }),
      }),
    );
    assert.deepEqual(await replay.json(), { replayed: 0 });
  });
});

Deno.test("the buttons' endpoints refuse a body that is too large, not an object, or not JSON; a bad path escape is a 404", async () => {
  await withHandler(null, async (handler) => {
    const post = (body: BodyInit) =>
      handler(local("/api/revoke", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }));
    const huge = await post(JSON.stringify({ id: "x".repeat(100_000) }));
    assert.equal(huge.status, 413);
    await huge.body?.cancel();
    // Streamed without a length: cut off past the limit all the same.
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 100) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await post(stream);
    assert.equal(streamed.status, 413);
    assert.ok(sent < 100, `read ${sent} chunks of 100`);
    await streamed.body?.cancel();
    for (const body of ["[1, 2]", "42", "null", "{not json"]) {
      const refused = await post(body);
      assert.equal(refused.status, 400, body);
      assert.deepEqual(await refused.json(), { error: "body must be a JSON object" });
    }
    const badEscape = await handler(local("/api/results/%zz"));
    assert.equal(badEscape.status, 404);
    await badEscape.body?.cancel();
  });
});
