import assert from "node:assert/strict";
import { type Revocation, RevokedSet } from "./revoked_set.ts";

const revocation = (taskId: string, at: number, more: Partial<Revocation> = {}): Revocation => ({
  taskId,
  terminate: false,
  reason: "revoked",
  revokedAt: at,
  expiresAt: at + 1000,
  ...more,
});

Deno.test("RevokedSet forgets a revocation once it expires", () => {
  let now = 0;
  const set = new RevokedSet({ now: () => now });
  assert.equal(set.add(revocation("a", 0)), true);
  assert.equal(set.get("a")?.taskId, "a");
  now = 999;
  assert.ok(set.get("a"));
  now = 1000;
  assert.equal(set.get("a"), undefined);
  assert.equal(set.size, 0);
  assert.equal(set.add(revocation("b", -2000)), false, "expired already: not kept");
});

Deno.test("RevokedSet keeps at most maxSize, dropping the oldest", () => {
  const set = new RevokedSet({ now: () => 0, maxSize: 3 });
  for (const id of ["a", "b", "c", "d"]) set.add(revocation(id, 0));
  assert.deepEqual(set.ids(), ["b", "c", "d"]);
  assert.equal(set.get("a"), undefined);
});

Deno.test("RevokedSet: a repeated revocation is not new, unless it adds terminate", () => {
  const set = new RevokedSet({ now: () => 0 });
  assert.equal(set.add(revocation("a", 0)), true);
  assert.equal(set.add(revocation("a", 0)), false);
  assert.equal(set.add(revocation("a", 0, { terminate: true })), true);
  assert.equal(set.add(revocation("a", 0, { terminate: false })), false, "terminate is kept");
  assert.equal(set.get("a")?.terminate, true);
});
