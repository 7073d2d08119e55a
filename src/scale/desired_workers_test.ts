import assert from "node:assert/strict";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { desiredWorkers, type ScaleInput, targetWorkers } from "./desired_workers.ts";

const bounds = { min: 1, max: 8, backlogPerWorker: 20 };

Deno.test("targetWorkers() is ceil(backlog / backlogPerWorker) clamped to min and max", () => {
  assert.equal(targetWorkers({ ...bounds, backlog: 0 }), 1);
  assert.equal(targetWorkers({ ...bounds, backlog: 20 }), 1);
  assert.equal(targetWorkers({ ...bounds, backlog: 21 }), 2);
  assert.equal(targetWorkers({ ...bounds, backlog: 57 }), 3);
  assert.equal(targetWorkers({ ...bounds, backlog: 10_000 }), 8);
  assert.equal(targetWorkers({ ...bounds, min: 0, backlog: 0 }), 0);
  assert.equal(targetWorkers({ ...bounds, min: 3, backlog: 1 }), 3);
});

Deno.test("targetWorkers() rejects min > max and backlogPerWorker < 1", () => {
  assert.throws(() => targetWorkers({ min: 3, max: 2, backlogPerWorker: 1, backlog: 0 }), {
    name: "RangeError",
    message: "Cannot scale: min (3) is greater than max (2)",
  });
  assert.throws(
    () => targetWorkers({ min: 1, max: 2, backlogPerWorker: 0, backlog: 0 }),
    RangeError,
  );
});

Deno.test("desiredWorkers() scales up at once, to the target, without waiting for a cool-down", () => {
  const input: ScaleInput = { ...bounds, current: 1, backlog: 57 };
  const decision = desiredWorkers(input, { now: 0, cooldownMs: 30_000, lowSince: 5 });
  assert.deepEqual(decision, { workers: 3, lowSince: null });
  assert.deepEqual(
    desiredWorkers({ ...input, current: 0, backlog: 0 }, {
      now: 0,
      cooldownMs: 30_000,
      lowSince: null,
    }),
    { workers: 1, lowSince: null },
    "below min: up to min at once",
  );
});

Deno.test("desiredWorkers() keeps the count while the backlog matches it, and forgets a low spell", () => {
  const decision = desiredWorkers({ ...bounds, current: 3, backlog: 45 }, {
    now: 10_000,
    cooldownMs: 1_000,
    lowSince: 0,
  });
  assert.deepEqual(decision, { workers: 3, lowSince: null });
});

Deno.test("desiredWorkers() steps down by one only after the backlog stayed low for the cool-down", () => {
  const clock = new ManualClock(1_000);
  const cooldownMs = 30_000;
  let state = { workers: 5, lowSince: null as number | null };
  const step = () =>
    state = desiredWorkers({ ...bounds, current: state.workers, backlog: 0 }, {
      now: clock.now(),
      cooldownMs,
      lowSince: state.lowSince,
    });

  assert.deepEqual(step(), { workers: 5, lowSince: 1_000 }, "low spell starts");
  clock.tick(29_999);
  assert.deepEqual(step(), { workers: 5, lowSince: 1_000 }, "not yet");
  clock.tick(1);
  assert.deepEqual(step(), { workers: 4, lowSince: 31_000 }, "one step, cool-down restarts");
  clock.tick(10_000);
  assert.equal(step().workers, 4, "the next step waits a whole cool-down again");
  clock.tick(20_000);
  assert.equal(step().workers, 3);
  // A burst in between resets the spell: no step down right after it.
  clock.tick(30_000);
  state = desiredWorkers({ ...bounds, current: state.workers, backlog: 60 }, {
    now: clock.now(),
    cooldownMs,
    lowSince: state.lowSince,
  });
  assert.deepEqual(state, { workers: 3, lowSince: null });
  clock.tick(1);
  assert.deepEqual(step(), { workers: 3, lowSince: clock.now() });
});

Deno.test("desiredWorkers() never steps below min and brings a count above max down at once", () => {
  assert.deepEqual(
    desiredWorkers({ ...bounds, current: 1, backlog: 0 }, { now: 99, cooldownMs: 0, lowSince: 0 }),
    { workers: 1, lowSince: null },
  );
  assert.deepEqual(
    desiredWorkers({ ...bounds, max: 2, current: 5, backlog: 0 }, {
      now: 0,
      cooldownMs: 30_000,
      lowSince: null,
    }),
    { workers: 2, lowSince: null },
  );
});

Deno.test("desiredWorkers() with a zero cool-down steps down one worker per decision", () => {
  const hysteresis = { now: 0, cooldownMs: 0, lowSince: null };
  assert.equal(desiredWorkers({ ...bounds, current: 4, backlog: 0 }, hysteresis).workers, 3);
});
