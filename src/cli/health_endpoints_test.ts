import assert from "node:assert/strict";
import { defaultConfig, type WorkerConfig } from "../config/schema.ts";
import { planHealthServers } from "./health_endpoints.ts";

function worker(overrides: Partial<WorkerConfig>): WorkerConfig {
  return { ...defaultConfig().worker, ...overrides };
}

function plan(overrides: Partial<WorkerConfig>): unknown[] {
  return planHealthServers(worker(overrides)).map((s) => [
    `${s.spec.hostname}:${s.spec.port}`,
    s.spec.given,
    s.paths.join(" "),
  ]);
}

Deno.test("planHealthServers() serves everything on the default health address, which may move", () => {
  assert.deepEqual(plan({}), [["0.0.0.0:8080", false, "/healthz /readyz /metrics"]]);
});

Deno.test("planHealthServers() moves /metrics to its own host and port", () => {
  assert.deepEqual(plan({ metricsHost: "127.0.0.1", metricsPort: 9464 }), [
    ["0.0.0.0:8080", false, "/healthz /readyz"],
    ["127.0.0.1:9464", true, "/metrics"],
  ]);
  assert.deepEqual(plan({ metricsHost: "127.0.0.1" }), [
    ["0.0.0.0:8080", false, "/healthz /readyz"],
    ["127.0.0.1:8080", false, "/metrics"],
  ]);
});

Deno.test("planHealthServers() turns /metrics off with metrics port 0, and everything with both 0", () => {
  assert.deepEqual(plan({ metricsPort: 0 }), [["0.0.0.0:8080", false, "/healthz /readyz"]]);
  assert.deepEqual(plan({ healthPort: 0 }), []);
  assert.deepEqual(plan({ healthPort: 0, metricsPort: 9100 }), [[
    "0.0.0.0:9100",
    true,
    "/metrics",
  ]]);
});

Deno.test("planHealthServers() keeps a chosen health port fixed", () => {
  assert.deepEqual(plan({ healthPort: 9000, healthPortGiven: true }), [
    ["0.0.0.0:9000", true, "/healthz /readyz /metrics"],
  ]);
});
