import assert from "node:assert/strict";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import { silentLogger } from "../log/logger.ts";
import {
  decodeEntry,
  encodeEntry,
  followRevocations,
  logRevocations,
  newRevocation,
  REVOKE_EXPIRES_MS,
} from "./revocation_log.ts";
import type { Revocation } from "./revoked_set.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("a revocation round-trips through its stream entry", () => {
  const revocation = newRevocation("t-1", { terminate: true, reason: "wrong build", now: 1_000 });
  assert.equal(revocation.expiresAt, 1_000 + REVOKE_EXPIRES_MS);
  assert.deepEqual(decodeEntry(encodeEntry({ kind: "revocation", revocation })), {
    kind: "revocation",
    revocation,
  });
  assert.deepEqual(decodeEntry(encodeEntry({ kind: "marker", id: "m" })), {
    kind: "marker",
    id: "m",
  });
});

Deno.test("a stream entry this version cannot read is skipped, never an error", () => {
  const hostile = [
    "",
    "not json",
    "null",
    "[]",
    '"text"',
    "{}",
    '{"task_id": 7, "revoked_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T03:00:00Z"}',
    '{"task_id": "", "revoked_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T03:00:00Z"}',
    '{"task_id": "t", "revoked_at": "yesterday", "expires_at": "2026-01-01T03:00:00Z"}',
    '{"task_id": "t", "revoked_at": "2026-01-01T00:00:00Z"}',
    "[".repeat(100_000),
  ];
  for (const text of hostile) assert.equal(decodeEntry(bytes(text)), null, text.slice(0, 40));
  const long = decodeEntry(bytes(JSON.stringify({
    task_id: "t",
    reason: "x".repeat(5000),
    terminate: "yes",
    revoked_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-01T03:00:00Z",
  })));
  assert.equal(long?.kind, "revocation");
  if (long?.kind === "revocation") {
    assert.equal(long.revocation.reason.length, 1000, "a reason is cut to 1000 characters");
    assert.equal(long.revocation.terminate, false, "only true means terminate");
  }
});

Deno.test("followRevocations() hands over what was logged before it, catches up, then follows", async () => {
  using broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const stop = new AbortController();
  try {
    await logRevocations(transport, [newRevocation("before", { now: Date.now() })]);
    await transport.publish("dts.revocations", bytes("garbage"), { headers: {} });
    const seen: Revocation[] = [];
    const following = followRevocations({
      transport,
      logger: silentLogger,
      signal: stop.signal,
      onRevocation: (revocation) => seen.push(revocation),
    });
    await following.caughtUp;
    assert.deepEqual(seen.map((r) => r.taskId), ["before"]);
    await logRevocations(transport, [newRevocation("after", { now: Date.now() })]);
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen.map((r) => r.taskId), ["before", "after"]);
    stop.abort();
    await following.done;
  } finally {
    await transport.close();
  }
});
