import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { autoscaleProblem, parseAutoscale } from "./autoscale_setting.ts";
import { loadConfig, type LoadConfigOptions } from "./load.ts";

function file(text: string): Pick<LoadConfigOptions, "path" | "readTextFile"> {
  return { path: "x.yml", readTextFile: () => Promise.resolve(`name: x\n${text}`) };
}

async function issuesOf(options: LoadConfigOptions): Promise<ConfigIssue[]> {
  const error = await loadConfig(options).then(() => null, (e) => e);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
  assert.equal(error.exitCode, 2);
  return [...error.issues];
}

Deno.test("parseAutoscale() reads Celery's MAX,MIN and MIN,MAX alike: the smaller is min", () => {
  assert.deepEqual(parseAutoscale("4,1"), { min: 1, max: 4 });
  assert.deepEqual(parseAutoscale("1,4"), { min: 1, max: 4 });
  assert.deepEqual(parseAutoscale(" 8 , 8 "), { min: 8, max: 8 });
  assert.deepEqual(parseAutoscale("3,0"), { min: 0, max: 3 });
});

Deno.test("parseAutoscale() reads one number as the max with min 0, as Celery does", () => {
  assert.deepEqual(parseAutoscale("10"), { min: 0, max: 10 });
});

Deno.test("parseAutoscale() refuses anything but one or two whole numbers with a max from 1 to 65535", () => {
  for (const text of ["", "4,", ",4", "4;1", "4,1,2", "-1,4", "1.5,4", "a,b", "4 1"]) {
    assert.throws(() => parseAutoscale(text), RangeError, text);
    assert.match(autoscaleProblem(text) ?? "", /must be MAX,MIN like 4,1/, text);
  }
  assert.match(autoscaleProblem("0,0") ?? "", /max\) must be >= 1/);
  assert.match(autoscaleProblem("0") ?? "", /max\) must be >= 1/);
  assert.match(autoscaleProblem("70000,1") ?? "", /at most 65535/);
  assert.equal(autoscaleProblem("65535,0"), null);
});

Deno.test("loadConfig() takes worker.autoscale from --autoscale, DTS_AUTOSCALE or the file", async () => {
  assert.deepEqual((await loadConfig({ flags: { autoscale: "4,1" } })).worker.autoscale, {
    min: 1,
    max: 4,
  });
  assert.deepEqual((await loadConfig({ env: { DTS_AUTOSCALE: "2,6" } })).worker.autoscale, {
    min: 2,
    max: 6,
  });
  const fromMap = await loadConfig(
    file("worker: { autoscale: { max: 8 }, autoscale_cooldown: 5s }\n"),
  );
  assert.deepEqual(fromMap.worker.autoscale, { min: 0, max: 8 });
  assert.equal(fromMap.worker.autoscaleCooldownMs, 5000);
  assert.deepEqual((await loadConfig(file('worker: { autoscale: "8,2" }\n'))).worker.autoscale, {
    min: 2,
    max: 8,
  });
  assert.deepEqual((await loadConfig(file("worker: { autoscale: 3 }\n"))).worker.autoscale, {
    min: 0,
    max: 3,
  });
  const none = await loadConfig({});
  assert.equal(none.worker.autoscale, null);
  assert.equal(none.worker.autoscaleCooldownMs, 30_000);
});

Deno.test("loadConfig() names the option and the value of a bad autoscale", async () => {
  const flag = await loadConfig({ flags: { autoscale: "4,x" } }).catch((e) => e);
  assert.ok(flag instanceof ConfigError);
  assert.equal(
    flag.message,
    'Cannot use --autoscale "4,x": must be MAX,MIN like 4,1 (two whole numbers, in either order)',
  );
  const env = await loadConfig({ env: { DTS_AUTOSCALE: "0,0" } }).catch((e) => e);
  assert.equal(
    env.message,
    'Cannot use DTS_AUTOSCALE="0,0": must let at least 1 task run: the larger number (max) must be >= 1',
  );
  assert.deepEqual(await issuesOf(file("worker:\n  autoscale: { min: 5, max: 2 }\n")), [
    { path: "worker.autoscale.max", message: "must be >= min (5)", line: 3 },
  ]);
  assert.deepEqual(await issuesOf(file("worker:\n  autoscale: [4, 1]\n")), [
    {
      path: "worker.autoscale",
      message:
        "must be MAX,MIN like 4,1 (two whole numbers, in either order), or a map { min, max }",
      line: 3,
    },
  ]);
});

Deno.test("loadConfig() refuses autoscale and concurrency given by one source, naming both", async () => {
  const flags = await loadConfig({ flags: { autoscale: "4,1", concurrency: 3 } }).catch((e) => e);
  assert.ok(flags instanceof ConfigError);
  assert.equal(
    flags.message,
    'Cannot use --autoscale "4,1": cannot be combined with --concurrency 3: the pool is either fixed (concurrency) or follows the backlog (autoscale); give one',
  );
  const env = await loadConfig({ env: { DTS_AUTOSCALE: "4,1", DTS_CONCURRENCY: "3" } })
    .catch((e) => e);
  assert.match(
    env.message,
    /^Cannot use DTS_AUTOSCALE="4,1": cannot be combined with DTS_CONCURRENCY=3: /,
  );
  assert.deepEqual(
    await issuesOf(file("worker:\n  concurrency: 2\n  autoscale: 4,1\n")),
    [{
      path: "worker.autoscale",
      message:
        "cannot be set together with worker.concurrency: the pool is either fixed (concurrency) or follows the backlog (autoscale); give one",
      line: 4,
    }],
  );
});

Deno.test("loadConfig() lets a higher source's pool setting replace a lower one's, either way", async () => {
  const overFile = await loadConfig({
    ...file("worker: { concurrency: 8 }\n"),
    flags: { autoscale: "4,1" },
  });
  assert.deepEqual(overFile.worker.autoscale, { min: 1, max: 4 });
  assert.equal(overFile.worker.concurrency, 1, "the file's concurrency is not used");
  const overEnv = await loadConfig({ env: { DTS_AUTOSCALE: "4,1" }, flags: { concurrency: 2 } });
  assert.equal(overEnv.worker.autoscale, null);
  assert.equal(overEnv.worker.concurrency, 2);
  const envOverFile = await loadConfig({
    ...file("worker: { autoscale: { min: 1, max: 9 }, autoscale_cooldown: 1m }\n"),
    env: { DTS_CONCURRENCY: "5" },
  });
  assert.deepEqual([envOverFile.worker.autoscale, envOverFile.worker.concurrency], [null, 5]);
  // Only the pool's size is replaced: the file's cool-down stays for a flag's autoscale.
  const keepsCooldown = await loadConfig({
    ...file("worker: { autoscale: { min: 1, max: 9 }, autoscale_cooldown: 1m }\n"),
    flags: { autoscale: "3,2" },
  });
  assert.deepEqual(keepsCooldown.worker.autoscale, { min: 2, max: 3 });
  assert.equal(keepsCooldown.worker.autoscaleCooldownMs, 60_000);
});
