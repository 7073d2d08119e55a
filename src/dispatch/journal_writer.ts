/**
 * Appending to a dispatch journal durably: `append()` resolves only once its
 * lines are written and `fdatasync`ed, so a caller may then acknowledge the
 * result message they came from. Appends that arrive while a sync is under
 * way are written together with the next one (group commit): one sync per
 * batch, not per line, and lines keep the order of the `append()` calls.
 * @module
 */
import { concatBytes } from "../bytes.ts";
import type { JournalHeader, JournalRecord } from "./journal_record.ts";

interface Waiting {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const encoder = new TextEncoder();

/** An open journal file; `close()` it when the run is over. */
export class JournalWriter {
  /** Where the journal is. */
  readonly path: string;
  readonly #file: Deno.FsFile;
  #waiting: Waiting[] = [];
  #flushing: Promise<void> | null = null;
  #failure: unknown = null;
  #closed = false;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Start a new journal at `path` with its first line on disk; its folder is
   * created when missing. Never overwrites a file.
   * @throws {Deno.errors.AlreadyExists} when `path` exists
   */
  static async create(path: string, header: JournalHeader): Promise<JournalWriter> {
    const dir = parentDir(path);
    if (dir !== null) await Deno.mkdir(dir, { recursive: true });
    const file = await Deno.open(path, { write: true, createNew: true });
    const writer = new JournalWriter(path, file);
    try {
      await writer.append([header]);
      if (dir !== null) await syncDirectory(dir);
    } catch (error) {
      await writer.close();
      throw error;
    }
    return writer;
  }

  /**
   * Reopen a journal to add lines after its first `validBytes` bytes (what
   * `readJournal` found whole): a line torn by a crash is cut off first, so
   * the next line does not run into it.
   */
  static async reopen(path: string, validBytes: number): Promise<JournalWriter> {
    const file = await Deno.open(path, { read: true, write: true });
    try {
      await file.truncate(validBytes);
      await file.seek(0, Deno.SeekMode.End);
      await file.syncData();
    } catch (error) {
      file.close();
      throw error;
    }
    return new JournalWriter(path, file);
  }

  /**
   * Write `records`, one line each; resolves once they are on disk.
   * After a failed write every later append fails too (the file may end in
   * a torn line, which only a reader may skip).
   */
  append(records: readonly JournalRecord[]): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Error(`Cannot write journal "${this.path}": it is closed`));
    }
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const text = records.map((record) => `${JSON.stringify(record)}\n`).join("");
    return new Promise((resolve, reject) => {
      this.#waiting.push({ bytes: encoder.encode(text), resolve, reject });
      this.#kick();
    });
  }

  /** Wait for pending appends, then close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    this.#file.close();
  }

  #kick(): void {
    if (this.#flushing !== null) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = null;
      if (this.#waiting.length > 0) this.#kick();
    });
  }

  async #flush(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        if (this.#failure !== null) throw this.#failure;
        await writeAll(this.#file, concatBytes(batch.map((w) => w.bytes)));
        await this.#file.syncData();
        for (const waiting of batch) waiting.resolve();
      } catch (error) {
        this.#failure ??= new Error(
          `Cannot write journal "${this.path}": ${error instanceof Error ? error.message : error}`,
          { cause: error },
        );
        for (const waiting of batch) waiting.reject(this.#failure);
      }
    }
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

function parentDir(path: string): string | null {
  const cut = path.replace(/[\\/]+$/, "").lastIndexOf("/");
  if (cut === -1) return null;
  return cut === 0 ? "/" : path.slice(0, cut);
}

/** Make a new file's name durable too; best effort (not every platform can sync a folder). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // The file's content is synced; only its name could be lost to a power cut.
  }
}
