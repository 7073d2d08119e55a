/**
 * The dispatch journal: `dispatch_<run id>.jsonl` beside the results files,
 * one JSON object per line. The first line describes the run; every later
 * line is one event of one task, or a mark in the run's life (interrupted,
 * resumed, finished). A result message is acknowledged only once its line
 * is on disk, so what the journal lacks is still in the reply queue, and
 * `dts dispatch --resume <run id>` can collect it.
 * @module
 */
import { z } from "zod";
import type { TaskEvent } from "../report/task_event.ts";

/** The journal format this dts writes and reads. */
export const JOURNAL_VERSION = 1;

/** One sent task, as the first line lists it. */
export interface JournalJob {
  id: string;
  task: string;
  queue: string;
}

/** The first line: everything a resume needs to know about the run. */
export interface JournalHeader {
  kind: "run";
  version: typeof JOURNAL_VERSION;
  run_id: string;
  name: string;
  /** Redacted broker URL. */
  broker: string;
  /** The config file the run used, if any. */
  config: string | null;
  /** ISO time the run started. */
  started_at: string;
  /** Per task, from its send. */
  timeout_ms: number;
  reply_queue: string;
  /** The reply queue's `x-expires`: how long it outlives its last consumer. */
  reply_queue_expires_ms: number;
  expected_workers: number | null;
  workers: string[];
  jobs: JournalJob[];
}

/** Every line after the first. Times in `at` are epoch ms, as in `TaskEvent`. */
export type JournalEntry =
  | { kind: "event"; event: TaskEvent }
  | { kind: "interrupted"; at: number; signal: string }
  | { kind: "resumed"; at: number }
  | { kind: "finished"; at: number; results_file: string | null };

/** Any line. */
export type JournalRecord = JournalHeader | JournalEntry;

/** Validates a first line. */
export const JournalHeaderSchema: z.ZodType<JournalHeader> = z.object({
  kind: z.literal("run"),
  version: z.literal(JOURNAL_VERSION),
  run_id: z.string(),
  name: z.string(),
  broker: z.string(),
  config: z.string().nullable(),
  started_at: z.iso.datetime(),
  timeout_ms: z.number().positive(),
  reply_queue: z.string().min(1),
  reply_queue_expires_ms: z.number().positive(),
  expected_workers: z.number().nullable(),
  workers: z.array(z.string()),
  jobs: z.array(z.object({ id: z.string(), task: z.string(), queue: z.string() })),
});

const EVENT_TYPES = [
  "SENT",
  "RECEIVED",
  "STARTED",
  "RETRY",
  "SUCCESS",
  "FAILURE",
  "REVOKED",
  "TIMEOUT",
  "INTERRUPTED",
  "WAITING",
  "SKIPPED",
] as const;

/** Validates a later line, as far as reading it back needs. */
export const JournalEntrySchema: z.ZodType<JournalEntry> = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("event"),
    event: z.looseObject({
      type: z.enum(EVENT_TYPES),
      id: z.string(),
      task: z.string(),
      queue: z.string(),
      at: z.number(),
    }).transform((event) => event as unknown as TaskEvent),
  }),
  z.object({ kind: z.literal("interrupted"), at: z.number(), signal: z.string() }),
  z.object({ kind: z.literal("resumed"), at: z.number() }),
  z.object({ kind: z.literal("finished"), at: z.number(), results_file: z.string().nullable() }),
]) as unknown as z.ZodType<JournalEntry>;

/** `<dir>/dispatch_<run id>.jsonl` */
export function journalPath(dir: string, runId: string): string {
  const name = `dispatch_${runId}.jsonl`;
  return dir === "" ? name : `${dir.replace(/[\\/]+$/, "")}/${name}`;
}
