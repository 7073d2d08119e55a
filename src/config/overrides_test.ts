import assert from "node:assert/strict";
import { ENV_VARS, envLayer, flagLayer } from "./overrides.ts";

Deno.test("ENV_VARS lists every DTS_* config variable with a description", () => {
  assert.deepEqual(ENV_VARS.map((v) => v.name), [
    "DTS_BROKER_URL",
    "DTS_RESULTS_DIR",
    "DTS_LOG_LEVEL",
    "DTS_LOG_FORMAT",
    "DTS_CONCURRENCY",
    "DTS_AUTOSCALE",
    "DTS_HEALTH_PORT",
    "DTS_HEALTH_HOST",
    "DTS_METRICS_HOST",
    "DTS_METRICS_PORT",
    "DTS_QUEUE_TYPE",
    "DTS_CONNECT_TIMEOUT",
  ]);
  for (const variable of ENV_VARS) assert.ok(variable.description.length > 10, variable.name);
});

Deno.test("flagLayer() builds a snake_case raw document and labels each path", () => {
  const layer = flagLayer({ healthPort: 0, brokerUrl: "memory://", loadDurationMs: undefined });
  assert.deepEqual(layer.raw, { worker: { health_port: 0 }, broker: { url: "memory://" } });
  assert.deepEqual([...layer.labels], [["broker.url", "--broker"], [
    "worker.health_port",
    "--health-port",
  ]]);
});

Deno.test("flagLayer() writes durations given in milliseconds with their unit", () => {
  const layer = flagLayer({ dispatchTimeoutMs: 1500, loadDurationMs: 30_000 });
  assert.deepEqual(layer.raw, { dispatch: { timeout: "1500ms" }, load: { duration: "30000ms" } });
});

Deno.test("envLayer() parses whole numbers and skips paths set by flags", () => {
  const layer = envLayer(
    { DTS_HEALTH_PORT: " 8081 ", DTS_CONCURRENCY: "3", DTS_HEALTH_HOST: "h" },
    new Set(["worker.concurrency"]),
  );
  assert.deepEqual(layer.raw, { worker: { health_port: 8081, health_host: "h" } });
  assert.deepEqual(layer.issues, []);
  assert.equal(layer.labels.get("worker.health_port"), "DTS_HEALTH_PORT");
});

Deno.test("envLayer() reports a bad whole number by variable name and leaves it out", () => {
  const layer = envLayer({ DTS_CONCURRENCY: "1.5", DTS_HEALTH_PORT: "65536" });
  assert.deepEqual(layer.raw, {});
  assert.deepEqual(layer.issues, [
    {
      path: "DTS_CONCURRENCY",
      message: "must be a whole number >= 1",
      source: "env",
      value: "1.5",
    },
    {
      path: "DTS_HEALTH_PORT",
      message: "must be a whole number from 0 to 65535",
      source: "env",
      value: "65536",
    },
  ]);
});
