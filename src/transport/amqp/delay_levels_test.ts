import assert from "node:assert/strict";
import {
  DELAY_OUT_EXCHANGE,
  DELAY_RESOLUTION_MS,
  delayLevels,
  delayRoute,
  HIGHEST_LEVEL,
  levelName,
  levelPassPattern,
  levelQueuePattern,
  LOWEST_LEVEL,
  MAX_DELAY_MS,
  nextStop,
  outPattern,
  roundDelayMs,
} from "./delay_levels.ts";

/** Route a message down the ladder as RabbitMQ's topic exchanges would: the levels it waits in. */
function walk(route: { exchange: string; routingKey: string }): { waits: number[]; out: string } {
  const words = route.routingKey.split(".");
  const waits: number[] = [];
  let exchange = route.exchange;
  while (exchange !== DELAY_OUT_EXCHANGE) {
    const level = Number(exchange.slice("dts.delay.".length));
    const matches = (pattern: string) => {
      const p = pattern.split(".");
      return p.slice(0, -1).every((w, i) => w === "*" || w === words[i]);
    };
    if (matches(levelQueuePattern(level))) waits.push(level);
    else assert.ok(matches(levelPassPattern(level)), `routed nowhere at level ${level}`);
    exchange = nextStop(level);
  }
  const out = outPattern("x").split(".").length - 1;
  return { waits, out: words.slice(out).join(".") };
}

Deno.test("delayRoute() waits exactly the delay, in the levels of its set bits", () => {
  for (const ms of [16, 48, 496, 1008, 30_000, 86_400_000, MAX_DELAY_MS]) {
    const { waits, out } = walk(delayRoute("queue_a", ms));
    assert.equal(waits.reduce((sum, level) => sum + 2 ** level, 0), roundDelayMs(ms), `${ms} ms`);
    assert.equal(out, "queue_a");
  }
});

Deno.test("delayRoute() enters at the longest level it needs", () => {
  assert.equal(delayRoute("q", 400).exchange, levelName(8), "400 = 256 + 128 + 16");
  assert.equal(delayRoute("q", 500).exchange, levelName(9), "500 rounds up to 512");
  assert.equal(delayRoute("q", 16).exchange, levelName(LOWEST_LEVEL));
  assert.equal(delayRoute("q", 2 ** 31).exchange, levelName(HIGHEST_LEVEL));
  assert.equal(delayRoute("q", 1).exchange, levelName(LOWEST_LEVEL), "1 ms waits 16 ms");
  assert.equal(delayRoute("q", 0).exchange, DELAY_OUT_EXCHANGE, "no wait");
});

Deno.test("delayRoute() keeps a dotted queue name whole and matches only its own binding", () => {
  const route = delayRoute("t_1.queue.b", 1000);
  assert.equal(walk(route).out, "t_1.queue.b");
  const words = route.routingKey.split(".");
  const pattern = outPattern("queue.b").split(".");
  assert.notEqual(words.length, pattern.length, "queue.b's binding does not take t_1.queue.b's");
});

Deno.test("delayRoute() refuses delays out of range and names that break topic routing", () => {
  assert.throws(() => delayRoute("q", -1), RangeError);
  assert.throws(() => delayRoute("q", Number.NaN), RangeError);
  assert.throws(() => delayRoute("q", MAX_DELAY_MS + DELAY_RESOLUTION_MS), /49 days/);
  assert.throws(() => delayRoute("a.*.b", 100), /wildcard/);
  assert.throws(() => delayRoute("#", 100), /wildcard/);
  assert.throws(() => delayRoute("x".repeat(250), 100), /1\.\.199 bytes/);
});

Deno.test("delayLevels() lists the 28 levels from 2^31 down to 2^4 ms", () => {
  const levels = delayLevels();
  assert.equal(levels.length, 28);
  assert.deepEqual([levels[0], levels.at(-1)], [HIGHEST_LEVEL, LOWEST_LEVEL]);
  assert.equal(2 ** LOWEST_LEVEL, DELAY_RESOLUTION_MS);
});

Deno.test("MAX_DELAY_MS is what one trip down every level holds", () => {
  assert.equal(MAX_DELAY_MS, 2 ** (HIGHEST_LEVEL + 1) - DELAY_RESOLUTION_MS);
});

Deno.test("roundDelayMs() rounds up to 16 ms, so a message never leaves early", () => {
  assert.deepEqual([0, 1, 16, 17, 500].map(roundDelayMs), [0, 16, 16, 32, 512]);
});
