/**
 * When a schedule's slots fall. A slot is a moment a schedule fires at: for
 * `every`, each whole multiple of the interval since the epoch (so every
 * scheduler agrees on them without talking); for `cron`, each moment the
 * pattern matches in its timezone (parsed by `croner`).
 * @module
 */
import { Cron } from "croner";

/** How a schedule's slots are found. */
export type ScheduleTimes =
  | { kind: "every"; everyMs: number }
  | { kind: "cron"; pattern: string; timezone?: string };

/**
 * Check a cron pattern (and timezone); the problem in words, or null.
 * Five fields (minute first) or six (seconds first), as croner reads them.
 */
export function cronProblem(pattern: string, timezone?: string): string | null {
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: timezone });
    } catch {
      return `unknown timezone "${timezone}" (an IANA name such as Europe/Berlin or UTC)`;
    }
  }
  try {
    new Cron(pattern, { timezone, paused: true });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The first slot strictly after `afterMs`, or null when the pattern matches never again. */
export function nextSlot(times: ScheduleTimes, afterMs: number): number | null {
  if (times.kind === "every") return (Math.floor(afterMs / times.everyMs) + 1) * times.everyMs;
  const next = new Cron(times.pattern, { timezone: times.timezone, paused: true })
    .nextRun(new Date(afterMs));
  return next === null ? null : next.getTime();
}

/**
 * The latest slot in (`afterMs`, `nowMs`], or null when none: what a new
 * leader fires with `catch_up: latest` after a time with no leader.
 * A cron schedule is walked forward at most `limit` slots, from no earlier
 * than a day before now.
 */
export function latestSlotSince(
  times: ScheduleTimes,
  afterMs: number,
  nowMs: number,
  limit = 100_000,
): number | null {
  if (times.kind === "every") {
    const latest = Math.floor(nowMs / times.everyMs) * times.everyMs;
    return latest > afterMs ? latest : null;
  }
  let latest: number | null = null;
  let at = Math.max(afterMs, nowMs - 86_400_000);
  for (let i = 0; i < limit; i++) {
    const next = nextSlot(times, at);
    if (next === null || next > nowMs) break;
    latest = next;
    at = next;
  }
  return latest;
}

/** A task id derived from a schedule's name and a slot: the same on every scheduler. */
export async function slotTaskId(schedule: string, slotMs: number): Promise<string> {
  const data = new TextEncoder().encode(
    `dts.schedule\0${schedule}\0${new Date(slotMs).toISOString()}`,
  );
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data)).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x80; // version 8: a UUID of the application's own making
  hash[8] = (hash[8] & 0x3f) | 0x80; // the RFC 9562 variant
  const hex = [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
