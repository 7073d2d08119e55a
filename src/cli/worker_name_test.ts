import assert from "node:assert/strict";
import { defaultWorkerName } from "./worker_name.ts";

Deno.test("defaultWorkerName() puts the pid in the name, so two workers of a task differ", () => {
  assert.equal(defaultWorkerName(["a"], { hostname: "host1", pid: 4182 }), "worker-a.4182@host1");
  assert.notEqual(
    defaultWorkerName(["a"], { hostname: "h", pid: 1 }),
    defaultWorkerName(["a"], { hostname: "h", pid: 2 }),
  );
  assert.equal(defaultWorkerName(["a", "b"], { hostname: "h", pid: 7 }), "worker-a-b.7@h");
});
