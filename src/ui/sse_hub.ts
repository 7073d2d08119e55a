/**
 * Server-sent events to every open page: one broadcast, many streams. A page
 * that stops reading (a sleeping laptop) is dropped once it falls
 * `maxQueued` messages behind, so one slow reader never grows the server's
 * memory; its EventSource reconnects and starts from a fresh snapshot.
 * @module
 */

/** Options of an `SseHub`. */
export interface SseHubOptions {
  /** Messages a page may fall behind before it is dropped. @default 256 */
  maxQueued?: number;
  /** A comment line this often keeps proxies from closing an idle stream. @default 15_000 */
  keepAliveMs?: number;
}

const encoder = new TextEncoder();

/** Fan-out of named events to SSE clients. A class: it holds the open streams. */
export class SseHub {
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #maxQueued: number;
  readonly #keepAlive: ReturnType<typeof setInterval>;

  constructor(options: SseHubOptions = {}) {
    this.#maxQueued = options.maxQueued ?? 256;
    this.#keepAlive = setInterval(
      () => this.#sendAll(": keep-alive\n\n"),
      options.keepAliveMs ?? 15_000,
    );
  }

  /** How many pages listen now. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * A streaming response for one page; `first` (a snapshot) is its first
   * message. The stream ends when the page goes or the hub closes.
   */
  open(first?: { event: string; data: unknown }): Response {
    let self: ReadableStreamDefaultController<Uint8Array> | null = null;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#clients.add(controller);
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        if (first) controller.enqueue(encoder.encode(formatSse(first.event, first.data)));
      },
      cancel: () => {
        if (self) this.#clients.delete(self);
      },
    }, { highWaterMark: this.#maxQueued });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Send one named event to every page. */
  broadcast(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    this.#sendAll(formatSse(event, data));
  }

  /** End every stream and stop the keep-alive. */
  close(): void {
    clearInterval(this.#keepAlive);
    for (const client of this.#clients) {
      try {
        client.close();
      } catch { /* already closed */ }
    }
    this.#clients.clear();
  }

  #sendAll(text: string): void {
    const bytes = encoder.encode(text);
    for (const client of this.#clients) {
      // desiredSize counts down from highWaterMark as chunks queue unread.
      if ((client.desiredSize ?? 0) <= 0) {
        this.#clients.delete(client);
        try {
          client.error(new Error("the page fell too far behind"));
        } catch { /* already closed */ }
        continue;
      }
      try {
        client.enqueue(bytes);
      } catch {
        this.#clients.delete(client);
      }
    }
  }
}

/** One SSE message: `event:` line, the JSON on one `data:` line, a blank line. */
export function formatSse(event: string, data: unknown): string {
  // JSON.stringify never emits a raw newline, so one data line is enough.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
