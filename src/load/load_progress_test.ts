import assert from "node:assert/strict";
import { formatLoadBar, loadProgress, loadProgressFields } from "./load_progress.ts";

Deno.test("loadProgress() by count: fraction, rate and ETA from the results so far", () => {
  const target = { count: 5000, durationMs: null };
  const p = loadProgress({ sent: 1300, done: 1200 }, target, 2000);
  assert.deepEqual(p, { sent: 1300, done: 1200, rate: 600, fraction: 0.24, etaS: 3800 / 600 });
  assert.equal(
    formatLoadBar(p, target),
    "[######------------------]  1200/5000 done  600/s  ETA 6.3s",
  );
});

Deno.test("loadProgress() by duration: the bar follows the clock and ETA is the time left", () => {
  const target = { count: null, durationMs: 30_000 };
  const p = loadProgress({ sent: 2400, done: 2380 }, target, 12_000);
  assert.equal(p.fraction, 0.4);
  assert.equal(p.etaS, 18);
  assert.equal(
    formatLoadBar(p, target),
    "[##########--------------]  sent 2400  done 2380  198/s  ETA 18.0s",
  );
});

Deno.test("formatLoadBar() fits the terminal width and says ETA ? before any result", () => {
  const target = { count: 10, durationMs: null };
  const p = loadProgress({ sent: 3, done: 0 }, target, 100);
  assert.match(formatLoadBar(p, target), /ETA \?$/);
  assert.ok(formatLoadBar(p, target, 20).length < 20);
});

Deno.test("loadProgressFields() gives the numbers of a progress log line", () => {
  const target = { count: 200, durationMs: null };
  assert.deepEqual(
    loadProgressFields(loadProgress({ sent: 120, done: 100 }, target, 5000), target),
    {
      sent: 120,
      done: 100,
      total: 200,
      percent: 50,
      rate_per_s: 20,
      eta_s: 5,
    },
  );
});
