/**
 * Text for a stream, written in batches: everything written in one turn of
 * the event loop leaves in one write. A busy worker logs two lines per task,
 * and one synchronous write per line was about a tenth of its CPU.
 *
 * The owner flushes before anything that ends the process (`Deno.exit`, a
 * fatal error): at most one turn's text waits, and only until then.
 * @module
 */

/** How a batch leaves; may throw (a closed stream), which `flush` swallows. */
export type WriteBytes = (bytes: Uint8Array) => void;

/** Options; the defaults suit a process's stderr. */
export interface BatchedOutputOptions {
  /** Flush at once past this many characters waiting. @default 65536 */
  maxChars?: number;
  /** Runs the flush after this turn. @default (fn) => setTimeout(fn, 0) */
  schedule?: (flush: () => void) => void;
}

/** Collects text and writes it once per turn, or sooner when much waits. */
export class BatchedOutput {
  readonly #write: WriteBytes;
  readonly #maxChars: number;
  readonly #schedule: (flush: () => void) => void;
  readonly #encoder = new TextEncoder();
  #waiting: string[] = [];
  #chars = 0;
  #scheduled = false;

  constructor(write: WriteBytes, options: BatchedOutputOptions = {}) {
    this.#write = write;
    this.#maxChars = options.maxChars ?? 65_536;
    this.#schedule = options.schedule ?? ((flush) => setTimeout(flush, 0));
  }

  /** Text waiting to be written. */
  get waiting(): number {
    return this.#chars;
  }

  /** Queue `text`; it leaves with this turn's batch. */
  write(text: string): void {
    if (text.length === 0) return;
    this.#waiting.push(text);
    this.#chars += text.length;
    if (this.#chars >= this.#maxChars) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** Write everything waiting now. A failing write loses that batch, never throws. */
  flush(): void {
    if (this.#chars === 0) return;
    const text = this.#waiting.length === 1 ? this.#waiting[0] : this.#waiting.join("");
    this.#waiting = [];
    this.#chars = 0;
    try {
      this.#write(this.#encoder.encode(text));
    } catch {
      // Output must never take the program down with it (a closed stderr, say).
    }
  }
}
