import assert from "node:assert/strict";
import { cronProblem, latestSlotSince, nextSlot, slotTaskId } from "./schedule_times.ts";

const at = (iso: string) => Date.parse(iso);

Deno.test("every: slots are whole multiples of the interval since the epoch", () => {
  const times = { kind: "every" as const, everyMs: 30_000 };
  assert.equal(nextSlot(times, at("2026-12-02T10:00:10Z")), at("2026-12-02T10:00:30Z"));
  assert.equal(nextSlot(times, at("2026-12-02T10:00:30Z")), at("2026-12-02T10:01:00Z"));
  assert.equal(
    latestSlotSince(times, at("2026-12-02T10:00:00Z"), at("2026-12-02T10:02:45Z")),
    at("2026-12-02T10:02:30Z"),
  );
  assert.equal(
    latestSlotSince(times, at("2026-12-02T10:00:00Z"), at("2026-12-02T10:00:20Z")),
    null,
  );
});

Deno.test("cron: slots follow the pattern in its timezone", () => {
  const berlin = { kind: "cron" as const, pattern: "0 9 * * *", timezone: "Europe/Berlin" };
  // 09:00 in Berlin is 08:00 UTC in winter.
  assert.equal(nextSlot(berlin, at("2026-12-02T07:00:00Z")), at("2026-12-02T08:00:00Z"));
  const fives = { kind: "cron" as const, pattern: "*/5 * * * *" };
  assert.equal(nextSlot(fives, at("2026-12-02T10:03:00Z")), at("2026-12-02T10:05:00Z"));
  assert.equal(
    latestSlotSince(fives, at("2026-12-02T10:00:00Z"), at("2026-12-02T10:17:00Z")),
    at("2026-12-02T10:15:00Z"),
  );
});

Deno.test("cronProblem names what is wrong, or says nothing", () => {
  assert.equal(cronProblem("*/5 * * * *"), null);
  assert.match(cronProblem("* * bad") ?? "", /five, six, or seven/);
  assert.match(cronProblem("61 * * * *") ?? "", /./);
  assert.match(cronProblem("* * * * *", "Mars/Olympus") ?? "", /unknown timezone "Mars\/Olympus"/);
});

Deno.test("slotTaskId is the same for one schedule and slot, and differs otherwise", async () => {
  const a = await slotTaskId("nightly", at("2026-12-02T00:00:00Z"));
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(a, await slotTaskId("nightly", at("2026-12-02T00:00:00Z")));
  assert.notEqual(a, await slotTaskId("nightly", at("2026-12-03T00:00:00Z")));
  assert.notEqual(a, await slotTaskId("hourly", at("2026-12-02T00:00:00Z")));
});
