import assert from "node:assert/strict";
import { pluginHostsForPool, prefetchForPool } from "./pool_size.ts";

Deno.test("pluginHostsForPool() defaults to one host per core, at least 2, never more than the pool", () => {
  assert.equal(pluginHostsForPool(100, null, 8), 8);
  assert.equal(pluginHostsForPool(100, null, 1), 2, "a single core still gets 2 hosts");
  assert.equal(pluginHostsForPool(4, null, 16), 4, "no more hosts than slots");
  assert.equal(pluginHostsForPool(1, null, 16), 1);
});

Deno.test("pluginHostsForPool() takes worker.plugin_hosts, within the pool", () => {
  assert.equal(pluginHostsForPool(100, 100, 2), 100, "one host per slot when asked");
  assert.equal(pluginHostsForPool(100, 3, 16), 3);
  assert.equal(pluginHostsForPool(2, 10, 16), 2);
});

Deno.test("prefetchForPool() is one message per slot, at least 1", () => {
  assert.equal(prefetchForPool(8), 8);
  assert.equal(prefetchForPool(0), 1);
});
