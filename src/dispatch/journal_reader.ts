/**
 * Reading a dispatch journal back. A dispatcher killed mid-write leaves its
 * last line torn (no newline, or not JSON): that line is skipped, it was
 * never acknowledged. Any other broken line is an error.
 * @module
 */
import { UsageError } from "../errors.ts";
import {
  type JournalEntry,
  JournalEntrySchema,
  type JournalHeader,
  JournalHeaderSchema,
} from "./journal_record.ts";

/** A journal as read from disk. */
export interface Journal {
  path: string;
  header: JournalHeader;
  /** Every whole line after the first, in order. */
  entries: JournalEntry[];
  /** Bytes up to the end of the last whole line: where a writer goes on. */
  validBytes: number;
  /** A torn last line was skipped. */
  tornTail: boolean;
}

const NEWLINE = 0x0a;

/**
 * Read `path`; null when there is no such file.
 * @throws {UsageError} when it cannot be read or is not a dispatch journal
 */
export async function readJournal(
  path: string,
  readFile: (path: string) => Promise<Uint8Array> = Deno.readFile,
): Promise<Journal | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new UsageError(`Cannot read journal "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const validBytes = bytes.lastIndexOf(NEWLINE) + 1;
  const decoder = new TextDecoder();
  const lines = decoder.decode(bytes.subarray(0, validBytes)).split("\n").slice(0, -1);
  let tornTail = validBytes < bytes.length;
  const header = parseHeader(path, lines[0]);
  const entries: JournalEntry[] = [];
  for (const [index, line] of lines.slice(1).entries()) {
    const entry = parseEntry(line);
    if (entry !== null) {
      entries.push(entry);
      continue;
    }
    // A crash can tear only the last line: whole but not JSON (e.g. zeros on disk).
    if (index === lines.length - 2) {
      tornTail = true;
      return { path, header, entries, validBytes: validBytes - byteLength(line) - 1, tornTail };
    }
    throw new UsageError(
      `Cannot read journal "${path}": line ${index + 2} is not a journal entry`,
    );
  }
  return { path, header, entries, validBytes, tornTail };
}

function parseHeader(path: string, line: string | undefined): JournalHeader {
  if (line === undefined) {
    throw new UsageError(
      `Cannot read journal "${path}": it has no complete first line (the dispatcher stopped before sending anything)`,
    );
  }
  const parsed = JournalHeaderSchema.safeParse(parseJson(line));
  if (!parsed.success) {
    throw new UsageError(
      `Cannot read journal "${path}": its first line does not describe a dispatch run of this dts version`,
    );
  }
  return parsed.data;
}

function parseEntry(line: string): JournalEntry | null {
  const parsed = JournalEntrySchema.safeParse(parseJson(line));
  return parsed.success ? parsed.data : null;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
