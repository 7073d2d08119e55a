/**
 * One stream of the memory broker: an append-only log that every reader
 * reads whole, as a RabbitMQ stream queue is. Entries carry an offset (0 for
 * the first ever appended, +1 each) and the broker clock's time at append;
 * the log drops entries older than `maxAgeMs` (checked on append and on
 * read, so no timer runs) and its oldest entries while it holds more than
 * `maxBytes`. Readers pull at their own pace and wait for new entries.
 * @module
 */

import type { Clock } from "../../clock.ts";
import { BrokerError } from "../../errors.ts";
import {
  DEFAULT_STREAM_MAX_BYTES,
  type MessageProps,
  type StreamEntry,
  type StreamOptions,
  type StreamStart,
} from "../transport.ts";

export { DEFAULT_STREAM_MAX_BYTES };

/** Stream settings of the memory broker, defaults filled in. */
export interface MemoryStreamOptions {
  readonly maxAgeMs: number;
  readonly maxBytes: number;
}

/**
 * The settings a `StreamOptions` asks for, defaults filled in.
 * @throws {RangeError} when the age or size is not a positive number
 */
export function memoryStreamOptions(name: string, options: StreamOptions): MemoryStreamOptions {
  const { maxAgeMs, maxBytes = DEFAULT_STREAM_MAX_BYTES } = options;
  for (const [what, value] of [["maxAgeMs", maxAgeMs], ["maxBytes", maxBytes]] as const) {
    if (!(value > 0)) {
      throw new RangeError(`Cannot declare stream "${name}": ${what} must be > 0, got ${value}`);
    }
  }
  return { maxAgeMs, maxBytes };
}

/** The options of a stream as one comparable string, to refuse a conflicting redeclaration. */
export function streamOptionsKey(options: MemoryStreamOptions): string {
  return JSON.stringify({ maxAgeMs: options.maxAgeMs, maxBytes: options.maxBytes });
}

interface StoredEntry {
  readonly body: Uint8Array;
  readonly props: MessageProps;
  readonly offset: number;
  /** Broker clock, epoch ms. */
  readonly appendedAt: number;
}

/** A stream of the memory broker; the broker owns its lifecycle (`end()` when deleted). */
export class MemoryStream {
  readonly name: string;
  readonly options: MemoryStreamOptions;
  #clock: Clock;
  /** Oldest first; offsets are consecutive, so an offset's index is `offset - entries[0].offset`. */
  #entries: StoredEntry[] = [];
  #nextOffset = 0;
  #bytes = 0;
  #readers = new Set<MemoryStreamReader>();
  #ended = false;

  constructor(name: string, options: MemoryStreamOptions, clock: Clock) {
    this.name = name;
    this.options = { ...options };
    this.#clock = clock;
  }

  /** Entries kept right now (those past their age dropped first). */
  get length(): number {
    this.#trimByAge();
    return this.#entries.length;
  }

  /** Readers attached right now. */
  get readers(): number {
    return this.#readers.size;
  }

  /**
   * Append an entry (the caller's to keep: the broker stores a copy) and wake
   * the readers. The newest entry stays even when alone it is over `maxBytes`:
   * a confirmed publish that nobody could read would look like a lost one.
   */
  append(body: Uint8Array, props: MessageProps): void {
    if (this.#ended) return;
    this.#trimByAge();
    const offset = this.#nextOffset++;
    this.#entries.push({ body, props, offset, appendedAt: this.#clock.now() });
    this.#bytes += body.byteLength;
    while (this.#bytes > this.options.maxBytes && this.#entries.length > 1) this.#dropOldest();
    for (const reader of [...this.#readers]) reader.wake();
  }

  /**
   * Attach a reader: `first` starts at the oldest entry kept, `next` at the
   * next one appended. `onEnd` runs once when the reader ends, however.
   */
  attach(from: StreamStart, onEnd: () => void = () => {}): MemoryStreamReader {
    this.#trimByAge();
    const start = from === "first"
      ? this.#firstOffset()
      : from === "next"
      ? this.#nextOffset
      : this.#offsetSince(this.#clock.now() - from.sinceMs);
    const reader = new MemoryStreamReader(this, start, () => {
      this.#readers.delete(reader);
      onEnd();
    });
    if (this.#ended) reader.end();
    else this.#readers.add(reader);
    return reader;
  }

  /**
   * Reader side: the entry at `offset`, or the oldest kept when that one was
   * trimmed already (a reader too slow skips what is gone: its offsets jump),
   * or null when nothing at or after `offset` has been appended yet.
   */
  entryFrom(offset: number): StreamEntry | null {
    this.#trimByAge();
    const index = Math.max(0, offset - this.#firstOffset());
    const entry = this.#entries[index];
    if (entry === undefined) return null;
    // Copies: what one reader does to its entry, no other reader sees.
    return { body: entry.body.slice(), props: structuredClone(entry.props), offset: entry.offset };
  }

  /** The stream is gone: drop its entries and end every reader with `error`. */
  end(error: BrokerError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#entries = [];
    this.#bytes = 0;
    for (const reader of [...this.#readers]) reader.fail(error);
  }

  /** The first entry appended at or after `at`, else the next one to come. */
  #offsetSince(at: number): number {
    return this.#entries.find((entry) => entry.appendedAt >= at)?.offset ?? this.#nextOffset;
  }

  #firstOffset(): number {
    return this.#entries[0]?.offset ?? this.#nextOffset;
  }

  #trimByAge(): void {
    const oldest = this.#clock.now() - this.options.maxAgeMs;
    while (this.#entries.length > 0 && this.#entries[0].appendedAt < oldest) this.#dropOldest();
  }

  #dropOldest(): void {
    const dropped = this.#entries.shift() as StoredEntry;
    this.#bytes -= dropped.body.byteLength;
  }
}

interface Waiter {
  resolve(result: IteratorResult<StreamEntry>): void;
  reject(error: Error): void;
}

const DONE: IteratorResult<StreamEntry> = { done: true, value: undefined };

/**
 * One reader of a memory stream: a position and the `next()` calls waiting
 * for the entry there. Pulled, not pushed, so a slow reader holds no copies
 * and sees the trimming the way a RabbitMQ stream reader does.
 */
export class MemoryStreamReader implements AsyncIterableIterator<StreamEntry> {
  #stream: MemoryStream;
  /** Offset of the entry this reader reads next. */
  #position: number;
  #waiters: Waiter[] = [];
  #ended = false;
  #error: Error | null = null;
  #onEnd: () => void;

  /** Use `MemoryStream.attach()`. */
  constructor(stream: MemoryStream, position: number, onEnd: () => void) {
    this.#stream = stream;
    this.#position = position;
    this.#onEnd = onEnd;
  }

  next(): Promise<IteratorResult<StreamEntry>> {
    if (this.#ended) return this.#finish();
    if (this.#waiters.length === 0) {
      const entry = this.#take();
      if (entry !== null) return Promise.resolve({ done: false, value: entry });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<StreamEntry>> {
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StreamEntry> {
    return this;
  }

  /** Stream side: an entry was appended; hand it to a waiting `next()`. */
  wake(): void {
    while (this.#waiters.length > 0) {
      const entry = this.#take();
      if (entry === null) return;
      (this.#waiters.shift() as Waiter).resolve({ done: false, value: entry });
    }
  }

  /** Detach and end the iteration (the reader stopped, or its transport closed). */
  end(): void {
    if (!this.#stop()) return;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
  }

  /** Detach and throw `error` to the reader once (the stream was deleted, the broker closed). */
  fail(error: Error): void {
    if (!this.#stop()) return;
    const waiters = this.#waiters.splice(0);
    if (waiters.length === 0) this.#error = error;
    waiters.forEach((waiter, index) => index === 0 ? waiter.reject(error) : waiter.resolve(DONE));
  }

  #take(): StreamEntry | null {
    const entry = this.#stream.entryFrom(this.#position);
    if (entry !== null) this.#position = entry.offset + 1;
    return entry;
  }

  /** False when it had stopped already. */
  #stop(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.#onEnd();
    return true;
  }

  #finish(): Promise<IteratorResult<StreamEntry>> {
    const error = this.#error;
    if (error === null) return Promise.resolve(DONE);
    this.#error = null;
    return Promise.reject(error);
  }
}
