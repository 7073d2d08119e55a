/**
 * How fast the dashboard's history takes events: `EventStore.record()` on
 * a file in a temp folder, in batches as `dts ui` writes them (one
 * transaction per batch) and one event per transaction (the worst case).
 * Prints events per second. Run: deno run -A scripts/measure_ui_store.ts
 * @module
 */
import type { CeleryEvent } from "../src/ui/celery_event.ts";
import { EventStore } from "../src/ui/event_store.ts";

function taskEvents(n: number): CeleryEvent[] {
  const now = Date.now() / 1000;
  const events: CeleryEvent[] = [];
  for (let i = 0; events.length < n; i++) {
    const uuid = crypto.randomUUID();
    const base = { uuid, hostname: "worker-a.1@host", timestamp: now + i / 1000 };
    events.push({ ...base, type: "task-received", name: "task_a", retries: 0 });
    events.push({ ...base, type: "task-started" });
    events.push({ ...base, type: "task-succeeded", runtime: 0.012, result: "'ok'" });
  }
  return events.slice(0, n);
}

const dir = await Deno.makeTempDir({ prefix: "dts_ui_store_" });
try {
  for (const batch of [1, 100, 1000]) {
    using store = new EventStore(`${dir}/b${batch}.sqlite`);
    const events = taskEvents(batch === 1 ? 5_000 : 60_000);
    const started = performance.now();
    for (let i = 0; i < events.length; i += batch) store.record(events.slice(i, i + batch));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `batch ${String(batch).padStart(4)}: ${
        Math.round(events.length / seconds)
      } events/s (${events.length} events)`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
