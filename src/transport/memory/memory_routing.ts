/**
 * Exchanges and bindings of the memory broker: which queues a message
 * published to an exchange with a routing key reaches (direct, fanout and
 * AMQP topic matching).
 * @module
 */

import { BrokerError } from "../../errors.ts";

/** The exchange types dts uses. */
export type ExchangeType = "direct" | "fanout" | "topic";

interface ExchangeState {
  readonly type: ExchangeType;
  readonly durable: boolean;
  bindings: { queue: string; key: string }[];
}

/** The named exchanges of one memory broker and their bindings, by queue name. */
export class MemoryExchanges {
  #exchanges = new Map<string, ExchangeState>();

  /** Like RabbitMQ, start with the standard exchanges. */
  constructor() {
    for (const type of ["direct", "fanout", "topic"] as const) {
      this.#exchanges.set(`amq.${type}`, { type, durable: true, bindings: [] });
    }
  }

  /** Whether the exchange exists. */
  has(name: string): boolean {
    return this.#exchanges.has(name);
  }

  /**
   * Declare an exchange; idempotent with the same type.
   * @throws {BrokerError} when the name is reserved or it exists with another type
   */
  declare(name: string, type: ExchangeType, durable: boolean): void {
    if (name === "" || name.startsWith("amq.")) {
      throw new BrokerError(`Cannot declare exchange "${name}": the name is reserved`, {
        recoverable: false,
      });
    }
    const existing = this.#exchanges.get(name);
    if (existing) {
      if (existing.type !== type || existing.durable !== durable) {
        throw new BrokerError(
          `Cannot declare exchange "${name}": it exists as ${existing.type} (durable ${existing.durable})`,
          { recoverable: false },
        );
      }
      return;
    }
    this.#exchanges.set(name, { type, durable, bindings: [] });
  }

  /** Route `exchange` messages with `key` into `queue`; idempotent. The exchange must exist. */
  bind(queue: string, exchange: string, key: string): void {
    const state = this.#exchanges.get(exchange) as ExchangeState;
    if (!state.bindings.some((b) => b.queue === queue && b.key === key)) {
      state.bindings.push({ queue, key });
    }
  }

  /** Names of the queues bound to receive `routingKey`, or null when the exchange does not exist. */
  route(exchange: string, routingKey: string): Set<string> | null {
    const state = this.#exchanges.get(exchange);
    if (!state) return null;
    const names = new Set<string>();
    for (const binding of state.bindings) {
      if (bindingMatches(state.type, binding.key, routingKey)) names.add(binding.queue);
    }
    return names;
  }

  /** Remove every binding to a deleted queue. */
  unbindQueue(queue: string): void {
    for (const exchange of this.#exchanges.values()) {
      exchange.bindings = exchange.bindings.filter((b) => b.queue !== queue);
    }
  }

  /** Forget every exchange (the broker closed). */
  clear(): void {
    this.#exchanges.clear();
  }
}

function bindingMatches(type: ExchangeType, pattern: string, routingKey: string): boolean {
  if (type === "fanout") return true;
  if (type === "direct") return pattern === routingKey;
  return topicMatches(pattern.split("."), 0, routingKey.split("."), 0);
}

/** AMQP topic matching: `*` is exactly one word, `#` zero or more. */
function topicMatches(pattern: string[], p: number, words: string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const part = pattern[p];
  if (part === "#") {
    for (let skip = w; skip <= words.length; skip++) {
      if (topicMatches(pattern, p + 1, words, skip)) return true;
    }
    return false;
  }
  if (w === words.length) return false;
  if (part !== "*" && part !== words[w]) return false;
  return topicMatches(pattern, p + 1, words, w + 1);
}
