/**
 * `node:sqlite` (built into Deno), typed for the part the dashboard uses.
 * It is loaded through `createRequire` rather than imported: Deno's own
 * Node types have it, but a module graph that also holds testcontainers
 * (tests, scripts) type-checks against that package's older `@types/node`
 * 18, which has no `node:sqlite`, so an import would not check there.
 * @module
 */
import { createRequire } from "node:module";

/** A value SQLite stores or returns. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** A prepared statement. */
export interface StatementSync {
  run(...values: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...values: SqlValue[]): Record<string, SqlValue> | undefined;
  all(...values: SqlValue[]): Record<string, SqlValue>[];
}

/** A synchronous SQLite connection. */
export interface DatabaseSync {
  readonly isOpen: boolean;
  exec(sql: string): void;
  prepare(sql: string): StatementSync;
  close(): void;
}

/** Open (or create) the SQLite database at `path` (`":memory:"`: one that is not kept). */
export function openDatabase(path: string): DatabaseSync {
  const sqlite = createRequire(import.meta.url)("node:sqlite") as {
    DatabaseSync: new (path: string) => DatabaseSync;
  };
  return new sqlite.DatabaseSync(path);
}
