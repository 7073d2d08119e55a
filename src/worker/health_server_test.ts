import assert from "node:assert/strict";
import { createHealthHandler, type HealthState, serveHealth } from "./health_server.ts";

function state(overrides: Partial<HealthState> = {}): HealthState {
  return { ready: () => true, metrics: () => "dts_tasks_in_flight 0\n", ...overrides };
}

function get(path: string, method = "GET"): Request {
  return new Request(`http://worker.test${path}`, { method });
}

Deno.test("createHealthHandler() answers /healthz with 200 ok", async () => {
  const response = createHealthHandler(state({ ready: () => false }))(get("/healthz"));
  assert.equal(response.status, 200);
  assert.equal((await response.text()).trim(), "ok");
});

Deno.test("createHealthHandler() answers /readyz with 200 when ready", async () => {
  const response = createHealthHandler(state())(get("/readyz"));
  assert.equal(response.status, 200);
  assert.equal((await response.text()).trim(), "ready");
});

Deno.test("createHealthHandler() answers /readyz with 503 and the reason when not ready", async () => {
  let ready = false;
  const handler = createHealthHandler(
    state({ ready: () => ready, reason: () => "broker disconnected" }),
  );
  const down = handler(get("/readyz"));
  assert.equal(down.status, 503);
  assert.equal((await down.text()).trim(), "not ready: broker disconnected");
  ready = true;
  const up = handler(get("/readyz"));
  assert.equal(up.status, 200);
  await up.body?.cancel();
});

Deno.test("createHealthHandler() answers /readyz with 503 without a reason function", async () => {
  const response = createHealthHandler(state({ ready: () => false }))(get("/readyz"));
  assert.equal(response.status, 503);
  assert.equal((await response.text()).trim(), "not ready");
});

Deno.test("createHealthHandler() serves metrics as Prometheus text 0.0.4", async () => {
  const response = createHealthHandler(state({ metrics: () => "dts_broker_connected 1\n" }))(
    get("/metrics"),
  );
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.equal(await response.text(), "dts_broker_connected 1\n");
});

Deno.test("createHealthHandler() answers unknown paths with 404", async () => {
  const handler = createHealthHandler(state());
  for (const path of ["/", "/health", "/metrics/x", "/readyz/"]) {
    const response = handler(get(path));
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
});

Deno.test("createHealthHandler() answers other methods with 405 and allows HEAD", async () => {
  const handler = createHealthHandler(state());
  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = handler(get("/healthz", method));
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET, HEAD");
    await response.body?.cancel();
  }
  const head = handler(get("/metrics", "HEAD"));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  const headReady = createHealthHandler(state({ ready: () => false }))(get("/readyz", "HEAD"));
  assert.equal(headReady.status, 503);
});

Deno.test("createHealthHandler() ignores the query string", async () => {
  const response = createHealthHandler(state())(get("/healthz?verbose=1"));
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

Deno.test("createHealthHandler() answers 500 when the state throws", async () => {
  const handler = createHealthHandler(state({
    metrics: () => {
      throw new Error("registry broken");
    },
  }));
  const response = handler(get("/metrics"));
  assert.equal(response.status, 500);
  assert.match(await response.text(), /registry broken/);
});

Deno.test("serveHealth() listens on an ephemeral port and serves the handler", async () => {
  const listening = Promise.withResolvers<{ hostname: string; port: number }>();
  const server = serveHealth(createHealthHandler(state()), {
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => listening.resolve(addr),
  });
  try {
    const addr = await listening.promise;
    assert.ok(addr.port > 0);
    assert.equal(server.addr.port, addr.port);
    const response = await fetch(`http://127.0.0.1:${addr.port}/healthz`);
    assert.equal(response.status, 200);
    assert.equal((await response.text()).trim(), "ok");
  } finally {
    await server.shutdown();
  }
});

Deno.test("createHealthHandler() serves only the paths it is given", async () => {
  const healthOnly = createHealthHandler(state(), { paths: ["/healthz", "/readyz"] });
  const metrics = healthOnly(get("/metrics"));
  assert.equal(metrics.status, 404);
  await metrics.body?.cancel();
  const ok = healthOnly(get("/healthz"));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const metricsOnly = createHealthHandler(state(), { paths: ["/metrics"] });
  const ready = metricsOnly(get("/readyz"));
  assert.equal(ready.status, 404);
  await ready.body?.cancel();
  const text = metricsOnly(get("/metrics"));
  assert.equal(text.status, 200);
  assert.equal(await text.text(), "dts_tasks_in_flight 0\n");
});
