/**
 * The program gives up at start what a command never needs: `dts status`
 * keeps no `run` or `write`; a worker keeps `run` only when one of its
 * plugins declares it (a plugin host gets at most what the worker has).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { FIXTURE_PLUGINS } from "../helpers/test_kit.ts";

const PROBE = fileURLToPath(new URL("../helpers/permissions_probe.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));
const DEAD_BROKER = ["--broker", "amqp://guest:guest@127.0.0.1:1/"];

async function leftAfter(args: string[]): Promise<Record<string, string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--frozen",
      `--config=${CONFIG}`,
      "-P=dts",
      "--no-prompt",
      PROBE,
      ...args,
    ],
    env: { DTS_HEALTH_PORT: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1) ?? "{}").left;
}

Deno.test("dts status gives up run and write before it does anything", async () => {
  const left = await leftAfter(["status", ...DEAD_BROKER]);
  assert.deepEqual([left.run, left.write], ["prompt", "prompt"]);
  assert.equal(left.net, "granted");
});

Deno.test("dts worker drops run unless a plugin declares it, and keeps it when one does", async () => {
  const plain = await leftAfter([
    "worker",
    "--task",
    "hostile",
    "--plugins",
    FIXTURE_PLUGINS.hostile,
    "--connect-timeout",
    "100ms",
    ...DEAD_BROKER,
  ]);
  assert.deepEqual([plain.run, plain.write], ["prompt", "prompt"]);
  const crash = await leftAfter([
    "worker",
    "--task",
    "crash",
    "--plugins",
    FIXTURE_PLUGINS.reliability,
    "--connect-timeout",
    "100ms",
    ...DEAD_BROKER,
  ]);
  assert.equal(crash.run, "granted", 'task_crash declares run: ["kill"]');
  assert.equal(crash.write, "prompt");
});
