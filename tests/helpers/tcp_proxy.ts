/**
 * A TCP proxy on 127.0.0.1 for fault injection: it forwards every connection
 * to a target, and on demand cuts all of them at once or refuses new ones for
 * a while (accepts and closes at once, as a broker going down does).
 * @module
 */

/** Where the proxy forwards to. */
export interface ProxyTarget {
  hostname: string;
  port: number;
}

interface Pair {
  client: Deno.Conn;
  upstream: Deno.Conn | null;
  closed: boolean;
}

/** A running proxy; `close()` (or dispose) stops it and drops every connection. */
export class TcpProxy implements AsyncDisposable {
  readonly port: number;
  readonly #listener: Deno.Listener;
  readonly #target: ProxyTarget;
  readonly #pairs = new Set<Pair>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #refuseUntil = 0;
  #accepted = 0;

  private constructor(target: ProxyTarget) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  /** Start a proxy to `target` on a free port. */
  static start(target: ProxyTarget): TcpProxy {
    return new TcpProxy(target);
  }

  /** Connections accepted and forwarded so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Connections open right now. */
  get open(): number {
    return this.#pairs.size;
  }

  /** Rewrite an amqp:// URL to go through this proxy. */
  url(brokerUrl: string): string {
    const url = new URL(brokerUrl);
    url.hostname = "127.0.0.1";
    url.port = String(this.port);
    return url.toString();
  }

  /** Cut every open connection now; resolves to how many were cut. */
  cut(): number {
    const count = this.#pairs.size;
    for (const pair of [...this.#pairs]) this.#closePair(pair);
    return count;
  }

  /** Cut every connection and refuse new ones for `ms`. */
  outage(ms: number): number {
    this.#refuseUntil = performance.now() + ms;
    return this.cut();
  }

  async close(): Promise<void> {
    this.#refuseUntil = Infinity;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    this.cut();
    await this.#accepting;
    await Promise.allSettled([...this.#tasks]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        if (performance.now() < this.#refuseUntil) {
          safeClose(client);
          continue;
        }
        this.#accepted++;
        this.#track(this.#forward(client));
      }
    } catch { /* listener closed */ }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #forward(client: Deno.Conn): Promise<void> {
    const pair: Pair = { client, upstream: null, closed: false };
    this.#pairs.add(pair);
    try {
      pair.upstream = await Deno.connect(this.#target);
    } catch {
      this.#closePair(pair);
      return;
    }
    if (pair.closed) {
      safeClose(pair.upstream);
      return;
    }
    await Promise.all(
      [pump(client, pair.upstream), pump(pair.upstream, client)].map((p) =>
        p.finally(() => this.#closePair(pair))
      ),
    );
  }

  #closePair(pair: Pair): void {
    if (pair.closed) return;
    pair.closed = true;
    this.#pairs.delete(pair);
    safeClose(pair.client);
    if (pair.upstream !== null) safeClose(pair.upstream);
  }
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) return;
      let offset = 0;
      while (offset < n) offset += await to.write(buffer.subarray(offset, n));
    }
  } catch {
    // the other side, or cut(), closed it
  }
}

function safeClose(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
