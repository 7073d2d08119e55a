/**
 * The dashboard's history: every Celery event it heard, and the task and
 * worker rows folded from them, in one SQLite file (`node:sqlite`, built
 * into Deno), so a restart of `dts ui` forgets nothing. Rows older than the
 * retention are pruned.
 * @module
 */
import { type DatabaseSync, openDatabase, type StatementSync } from "./node_sqlite.ts";
import type { CeleryEvent } from "./celery_event.ts";
import { applyTaskEvent, newTaskRow, type TaskRow, type TaskState } from "./task_state.ts";
import { applyWorkerEvent, newWorkerRow, type WorkerRow } from "./worker_state.ts";

/** What a search of tasks may narrow by. */
export interface TaskQuery {
  /** Matches a task id or name containing it (case-insensitive). */
  text?: string;
  /** Newest first; at most this many. @default 200 */
  limit?: number;
}

const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  task_id TEXT,
  worker TEXT,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_at ON events (at_ms);
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  name TEXT,
  state TEXT NOT NULL,
  worker TEXT,
  retries INTEGER NOT NULL,
  sent_ms INTEGER,
  received_ms INTEGER,
  started_ms INTEGER,
  finished_ms INTEGER,
  runtime_ms REAL,
  error TEXT,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_updated ON tasks (updated_ms);
CREATE INDEX IF NOT EXISTS tasks_finished ON tasks (finished_ms);
CREATE TABLE IF NOT EXISTS workers (
  name TEXT PRIMARY KEY,
  row TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL
);
`;

/** The SQLite history of one dashboard. A class: it holds an open database. */
export class EventStore implements Disposable {
  readonly #db: DatabaseSync;
  readonly #insertEvent: StatementSync;
  readonly #getTask: StatementSync;
  readonly #putTask: StatementSync;
  readonly #putWorker: StatementSync;

  /** Open (or create) the database at `path`; `":memory:"` for one that is not kept. */
  constructor(path: string) {
    this.#db = openDatabase(path);
    this.#db.exec(SCHEMA);
    addSentColumn(this.#db);
    this.#insertEvent = this.#db.prepare(
      "INSERT INTO events (at_ms, type, task_id, worker, body) VALUES (?, ?, ?, ?, ?)",
    );
    this.#getTask = this.#db.prepare("SELECT * FROM tasks WHERE id = ?");
    this.#putTask = this.#db.prepare(
      `INSERT OR REPLACE INTO tasks (id, name, state, worker, retries, sent_ms, received_ms,
        started_ms, finished_ms, runtime_ms, error, updated_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#putWorker = this.#db.prepare(
      "INSERT OR REPLACE INTO workers (name, row, last_seen_ms) VALUES (?, ?, ?)",
    );
  }

  /**
   * Keep `events` in one transaction (one fsync for the batch, which is what
   * makes thousands a second cheap) and fold each into its task or worker
   * row. Returns the rows that changed.
   */
  record(events: readonly CeleryEvent[]): { tasks: TaskRow[]; workers: WorkerRow[] } {
    const tasks = new Map<string, TaskRow>();
    const workers = new Map<string, WorkerRow>();
    this.#db.exec("BEGIN");
    try {
      for (const event of events) {
        const atMs = Math.round(event.timestamp * 1000);
        const taskId = typeof event.uuid === "string" ? event.uuid : null;
        this.#insertEvent.run(
          atMs,
          event.type,
          taskId,
          event.hostname ?? null,
          JSON.stringify(event),
        );
        if (event.type.startsWith("task-") && taskId !== null) {
          const row = tasks.get(taskId) ?? this.task(taskId) ?? newTaskRow(taskId, atMs);
          const next = applyTaskEvent(row, event);
          tasks.set(taskId, next);
          this.#writeTask(next);
        } else if (event.type.startsWith("worker-") && typeof event.hostname === "string") {
          const row = workers.get(event.hostname) ?? this.worker(event.hostname) ??
            newWorkerRow(event.hostname);
          const next = applyWorkerEvent(row, event);
          workers.set(event.hostname, next);
          this.putWorker(next);
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return { tasks: [...tasks.values()], workers: [...workers.values()] };
  }

  /** One task's row, or null when never seen (or pruned). */
  task(id: string): TaskRow | null {
    const row = this.#getTask.get(id) as Record<string, unknown> | undefined;
    return row === undefined ? null : taskFromSql(row);
  }

  /** Tasks newest first, optionally matching `query.text` in id or name. */
  tasks(query: TaskQuery = {}): TaskRow[] {
    const limit = query.limit ?? 200;
    const rows = query.text
      ? this.#db.prepare(
        `SELECT * FROM tasks WHERE instr(lower(id), ?) > 0 OR instr(lower(coalesce(name, '')), ?) > 0
         ORDER BY updated_ms DESC LIMIT ?`,
      ).all(query.text.toLowerCase(), query.text.toLowerCase(), limit)
      : this.#db.prepare("SELECT * FROM tasks ORDER BY updated_ms DESC LIMIT ?").all(limit);
    return rows.map((row) => taskFromSql(row as Record<string, unknown>));
  }

  /** Tasks that finished at or after `sinceMs`, oldest first: the charts' raw data. */
  finishedSince(
    sinceMs: number,
    limit = 100_000,
  ): Pick<TaskRow, "finishedMs" | "runtimeMs" | "sentMs" | "state">[] {
    return this.#db.prepare(
      `SELECT finished_ms, runtime_ms, sent_ms, state FROM tasks WHERE finished_ms >= ?
       ORDER BY finished_ms LIMIT ?`,
    ).all(sinceMs, limit).map((row) => ({
      finishedMs: row.finished_ms as number,
      sentMs: row.sent_ms as number | null,
      runtimeMs: row.runtime_ms as number | null,
      state: row.state as TaskState,
    }));
  }

  /** One worker's row, or null. */
  worker(name: string): WorkerRow | null {
    const row = this.#db.prepare("SELECT row FROM workers WHERE name = ?").get(name);
    return row === undefined ? null : JSON.parse(row.row as string) as WorkerRow;
  }

  /** Every worker seen within the retention, by name. */
  workers(): WorkerRow[] {
    return this.#db.prepare("SELECT row FROM workers ORDER BY name").all()
      .map((row) => JSON.parse(row.row as string) as WorkerRow);
  }

  /** Keep a worker's row (also what remote control told of it). */
  putWorker(row: WorkerRow): void {
    this.#putWorker.run(row.name, JSON.stringify(row), row.lastSeenMs);
  }

  /** How many events are kept. */
  eventCount(): number {
    return this.#db.prepare("SELECT count(*) AS n FROM events").get()!.n as number;
  }

  /** Drop events, tasks and workers last heard of before `beforeMs`; resolves to the events dropped. */
  prune(beforeMs: number): number {
    this.#db.exec("BEGIN");
    try {
      const dropped = this.#db.prepare("DELETE FROM events WHERE at_ms < ?").run(beforeMs);
      this.#db.prepare("DELETE FROM tasks WHERE updated_ms < ?").run(beforeMs);
      this.#db.prepare("DELETE FROM workers WHERE last_seen_ms < ?").run(beforeMs);
      this.#db.exec("COMMIT");
      return Number(dropped.changes);
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Close the database. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #writeTask(row: TaskRow): void {
    this.#putTask.run(
      row.id,
      row.name,
      row.state,
      row.worker,
      row.retries,
      row.sentMs,
      row.receivedMs,
      row.startedMs,
      row.finishedMs,
      row.runtimeMs,
      row.error,
      row.updatedMs,
    );
  }
}

function taskFromSql(row: Record<string, unknown>): TaskRow {
  return {
    id: row.id as string,
    name: row.name as string | null,
    state: row.state as TaskState,
    worker: row.worker as string | null,
    retries: row.retries as number,
    sentMs: (row.sent_ms ?? null) as number | null,
    receivedMs: row.received_ms as number | null,
    startedMs: row.started_ms as number | null,
    finishedMs: row.finished_ms as number | null,
    runtimeMs: row.runtime_ms as number | null,
    error: row.error as string | null,
    updatedMs: row.updated_ms as number,
  };
}

/** A history file from before `sent_ms` gets the column (null: its tasks' sends were not kept). */
function addSentColumn(db: DatabaseSync): void {
  const columns = db.prepare("PRAGMA table_info(tasks)").all().map((c) => c.name);
  if (!columns.includes("sent_ms")) db.exec("ALTER TABLE tasks ADD COLUMN sent_ms INTEGER");
}
