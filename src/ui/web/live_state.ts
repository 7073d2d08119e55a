/// <reference lib="dom" />
/**
 * The page's state, kept current by the server's event stream: a snapshot
 * on (re)connect, then batches of changed rows. EventSource reconnects by
 * itself; a reconnect brings a fresh snapshot.
 * @module
 */
import { useEffect, useState } from "preact/hooks";
import type { DeadLetterView, QueueView, Snapshot } from "../fleet_monitor.ts";
import type { ResultsFileEntry } from "../results_listing.ts";
import type { TaskRow } from "../task_state.ts";
import type { WorkerRow } from "../worker_state.ts";
import type { TimeSeries } from "../chart_series.ts";

/** What the page shows, and whether the stream is up. */
export interface LiveState {
  connected: boolean;
  snapshot: Snapshot | null;
  /** By task id. */
  tasks: Map<string, TaskRow>;
}

/** How many task rows the page keeps (the newest). */
const MAX_TASKS = 2000;

/** Follow `/api/events`; re-renders on each message. */
export function useLiveState(): LiveState {
  const [state, setState] = useState<LiveState>({
    connected: false,
    snapshot: null,
    tasks: new Map(),
  });
  useEffect(() => {
    const source = new EventSource("/api/events");
    const on = <T>(name: string, apply: (s: LiveState, data: T) => LiveState) =>
      source.addEventListener(name, (message) => {
        const data = JSON.parse((message as MessageEvent<string>).data) as T;
        setState((s) => apply(s, data));
      });
    on<Snapshot>("snapshot", (_, snap) => ({
      connected: true,
      snapshot: snap,
      // Newest first from the server; the Map keeps the newest last.
      tasks: new Map([...snap.tasks].reverse().map((t) => [t.id, t])),
    }));
    on<TaskRow[]>("tasks", (s, rows) => {
      const tasks = new Map(s.tasks);
      for (const row of rows) {
        tasks.delete(row.id); // re-inserted last: the Map keeps arrival order
        tasks.set(row.id, row);
      }
      while (tasks.size > MAX_TASKS) tasks.delete(tasks.keys().next().value!);
      return { ...s, tasks };
    });
    const part = <K extends keyof Snapshot>(name: string, key: K) =>
      on<Snapshot[K]>(
        name,
        (s, value) => s.snapshot ? { ...s, snapshot: { ...s.snapshot, [key]: value } } : s,
      );
    part<"workers">("workers", "workers");
    part<"queues">("queues", "queues");
    part<"series">("series", "series");
    part<"deadLetters">("deadLetters", "deadLetters");
    part<"results">("results", "results");
    source.addEventListener("error", () => setState((s) => ({ ...s, connected: false })));
    return () => source.close();
  }, []);
  return state;
}

/** POST a JSON action; resolves to the server's answer, or throws its error. */
export async function postAction(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(String(answer.error ?? response.statusText));
  return answer;
}

export type { DeadLetterView, QueueView, ResultsFileEntry, TaskRow, TimeSeries, WorkerRow };
