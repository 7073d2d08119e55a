import assert from "node:assert/strict";
import {
  type AutoscaleBounds,
  type AutoscaleMemory,
  decidePoolSize,
  NO_MEMORY,
  type PoolSample,
  wantedPoolSize,
} from "./autoscale_decision.ts";

const BOUNDS: AutoscaleBounds = { min: 1, max: 4, cooldownMs: 30_000 };

function sample(at: number, size: number, more: Partial<PoolSample> = {}): PoolSample {
  return { at, size, running: 0, waiting: 0, ready: 0, ...more };
}

/** Run one sample per second from `from` with `load(at)` and return the sizes chosen. */
function run(
  options: {
    from?: number;
    seconds: number;
    size: number;
    memory?: AutoscaleMemory;
    load(at: number, size: number): Partial<PoolSample>;
    bounds?: AutoscaleBounds;
  },
): { sizes: number[]; memory: AutoscaleMemory } {
  let size = options.size;
  let memory = options.memory ?? NO_MEMORY;
  const sizes: number[] = [];
  const from = options.from ?? 0;
  for (let s = 0; s < options.seconds; s++) {
    const at = from + s * 1000;
    const decision = decidePoolSize(
      sample(at, size, options.load(at, size)),
      memory,
      options.bounds ?? BOUNDS,
    );
    size = decision.size;
    memory = decision.memory;
    sizes.push(size);
  }
  return { sizes, memory };
}

Deno.test("wantedPoolSize() counts running, waiting and ready within [min, max]", () => {
  assert.equal(wantedPoolSize(sample(0, 1, { running: 1, waiting: 1, ready: 1 }), BOUNDS), 3);
  assert.equal(wantedPoolSize(sample(0, 1, { ready: 100 }), BOUNDS), 4);
  assert.equal(wantedPoolSize(sample(0, 1), BOUNDS), 1);
  assert.equal(wantedPoolSize(sample(0, 1), { ...BOUNDS, min: 0 }), 0);
});

Deno.test("decidePoolSize() grows to the backlog at once, never past max", () => {
  assert.equal(decidePoolSize(sample(0, 1, { running: 1, ready: 2 }), NO_MEMORY, BOUNDS).size, 3);
  assert.equal(decidePoolSize(sample(0, 1, { running: 1, ready: 50 }), NO_MEMORY, BOUNDS).size, 4);
  assert.equal(
    decidePoolSize(sample(0, 0, { waiting: 1 }), NO_MEMORY, { ...BOUNDS, min: 0 }).size,
    1,
  );
});

Deno.test("decidePoolSize() holds an idle pool for the whole cool-down, then shrinks one slot per tick to min", () => {
  const busy = run({ seconds: 5, size: 1, load: () => ({ running: 4, ready: 10 }) });
  assert.deepEqual(busy.sizes, [4, 4, 4, 4, 4]);
  const idle = run({ from: 5000, seconds: 36, size: 4, memory: busy.memory, load: () => ({}) });
  // The last busy sample was at 4 s: 30 s later (34 s, the 30th idle tick) the first step.
  assert.deepEqual(idle.sizes.slice(0, 29), new Array(29).fill(4));
  assert.deepEqual(idle.sizes.slice(29), [3, 2, 1, 1, 1, 1, 1]);
});

Deno.test("decidePoolSize() shrinks only to the highest demand of the cool-down, not to the last sample", () => {
  // Demand flickers between 1 and 3 (a stream of tasks with gaps): the pool settles at 3, not below.
  const flicker = (at: number) => ({ running: at % 3000 === 0 ? 3 : 1 });
  const start = run({ seconds: 2, size: 1, load: () => ({ running: 4 }) });
  const { sizes } = run({ from: 2000, seconds: 60, size: 4, memory: start.memory, load: flicker });
  assert.equal(sizes.at(-1), 3);
  assert.ok(sizes.every((size) => size >= 3), `never below the peak: ${sizes}`);
});

Deno.test("decidePoolSize() stops shrinking and grows again when a backlog returns mid-way", () => {
  const busy = run({ seconds: 1, size: 1, load: () => ({ ready: 10 }) });
  // Idle from 1 s: 30 s after the busy sample (at 30 s) the first step down.
  const idle = run({ from: 1000, seconds: 30, size: 4, memory: busy.memory, load: () => ({}) });
  assert.equal(idle.sizes.at(-1), 3);
  const back = decidePoolSize(sample(31_000, 3, { running: 1, ready: 5 }), idle.memory, BOUNDS);
  assert.equal(back.size, 4);
});

Deno.test("decidePoolSize() never shrinks in the first cool-down after start, whatever the size", () => {
  const { sizes } = run({ seconds: 29, size: 4, load: () => ({}) });
  assert.ok(sizes.every((size) => size === 4), String(sizes));
});

Deno.test("decidePoolSize() brings a size outside the bounds back at once", () => {
  assert.equal(decidePoolSize(sample(0, 9), NO_MEMORY, BOUNDS).size, 4);
  assert.equal(decidePoolSize(sample(0, 0), NO_MEMORY, BOUNDS).size, 1);
});

Deno.test("decidePoolSize() with min 0 shrinks an idle pool to 0 slots", () => {
  const bounds = { min: 0, max: 2, cooldownMs: 3000 };
  const { sizes } = run({ seconds: 8, size: 2, bounds, load: () => ({}) });
  assert.deepEqual(sizes, [2, 2, 2, 1, 0, 0, 0, 0]);
});

Deno.test("decidePoolSize() counts running tasks as demand: a busy pool does not shrink below them", () => {
  const { sizes } = run({ seconds: 60, size: 4, load: () => ({ running: 3 }) });
  assert.equal(sizes.at(-1), 3);
  assert.ok(sizes.every((size) => size >= 3));
});

Deno.test("decidePoolSize() refuses bounds that make no pool", () => {
  const bad: AutoscaleBounds[] = [
    { min: 2, max: 1, cooldownMs: 0 },
    { min: 0, max: 0, cooldownMs: 0 },
    { min: -1, max: 1, cooldownMs: 0 },
    { min: 0, max: 1.5, cooldownMs: 0 },
    { min: 0, max: 1, cooldownMs: -1 },
  ];
  for (const bounds of bad) {
    assert.throws(() => decidePoolSize(sample(0, 1), NO_MEMORY, bounds), RangeError);
  }
});
