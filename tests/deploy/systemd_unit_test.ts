/**
 * deploy/systemd/: the worker template unit says what it must (read here),
 * and systemd itself accepts it (`systemd-analyze verify` and an offline
 * `systemd-analyze security` review, where systemd-analyze is installed).
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../../src/config/schema.ts";
import {
  lastValue,
  listValue,
  parseTimespanSeconds,
  parseUnitFile,
  type StopLimits,
  workerUnitProblems,
} from "./systemd_unit.ts";

const SYSTEMD_DIR = new URL("../../deploy/systemd/", import.meta.url);
const UNIT_NAME = "dts-worker@.service";
const TARGET_NAME = "dts-worker.target";
const unitText = Deno.readTextFileSync(new URL(UNIT_NAME, SYSTEMD_DIR));
const targetText = Deno.readTextFileSync(new URL(TARGET_NAME, SYSTEMD_DIR));

// The worker's own defaults, from its config schema: what TimeoutStopSec must outlast.
const defaults = defaultConfig().worker;
const LIMITS: StopLimits = {
  drainTimeoutMs: defaults.drainTimeoutMs,
  killGraceMs: defaults.killGraceMs,
};

/** Highest `systemd-analyze security` exposure accepted, on its 0-100 scale (shown as 0.0-10.0). */
const MAX_EXPOSURE = 20;

function onPath(command: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${command}`).isFile) return `${dir}/${command}`;
    } catch {
      // not in this folder
    }
  }
  return null;
}

const systemdAnalyze = onPath("systemd-analyze");
const WHY_IGNORED = systemdAnalyze === null
  ? " (ignored: systemd-analyze is not on PATH; on Debian/Ubuntu `apt-get install systemd`)"
  : "";

function mutated(from: string, to: string): string {
  assert.ok(unitText.includes(from), `the unit no longer contains ${JSON.stringify(from)}`);
  return unitText.replace(from, to);
}

Deno.test("parseTimespanSeconds() reads systemd's time spans", () => {
  assert.equal(parseTimespanSeconds("45s"), 45);
  assert.equal(parseTimespanSeconds("90"), 90);
  assert.equal(parseTimespanSeconds("1min 30s"), 90);
  assert.equal(parseTimespanSeconds("500ms"), 0.5);
  assert.throws(() => parseTimespanSeconds("soon"), RangeError);
});

Deno.test("parseUnitFile() keeps repeated keys, joins continued lines, and resets lists on empty values", () => {
  const unit = parseUnitFile(
    "[Service]\n# a comment\nExecStart=/bin/x \\\n  --flag\nCapabilityBoundingSet=CAP_X\nCapabilityBoundingSet=\n",
  );
  assert.equal(lastValue(unit, "Service", "ExecStart"), "/bin/x  --flag");
  assert.deepEqual(listValue(unit, "Service", "CapabilityBoundingSet"), []);
  assert.throws(() => parseUnitFile("[Service]\nnot a setting\n"), SyntaxError);
});

Deno.test("dts-worker@.service runs `dts worker --task %i`, restarts sanely, drains on stop and is hardened", () => {
  assert.deepEqual(workerUnitProblems(parseUnitFile(unitText), LIMITS), []);
});

Deno.test("dts-worker@.service checks catch a unit that would crash-loop, cut a drain short or run V8 under W^X", () => {
  const problemsOf = (text: string) => workerUnitProblems(parseUnitFile(text), LIMITS);
  assert.deepEqual(
    problemsOf(mutated("\nRestartPreventExitStatus=2\n", "\nRestartPreventExitStatus=3\n")),
    [
      "RestartPreventExitStatus does not hold 2 (bad config must not crash-loop)",
    ],
  );
  const stopMs = LIMITS.drainTimeoutMs + LIMITS.killGraceMs;
  assert.deepEqual(
    problemsOf(
      mutated(/^TimeoutStopSec=\S+$/m.exec(unitText)![0], `TimeoutStopSec=${stopMs / 1000}`),
    ),
    [
      `TimeoutStopSec=${stopMs / 1000}s is not longer than drain_timeout + kill_grace (${
        stopMs / 1000
      }s)`,
    ],
  );
  assert.deepEqual(problemsOf(`${unitText}\n[Service]\nMemoryDenyWriteExecute=yes\n`), [
    "MemoryDenyWriteExecute is on: V8's JIT cannot run under it",
  ]);
  const wrongTask = problemsOf(mutated("--task %i --config", "--task a --config"));
  assert.equal(wrongTask.length, 1, wrongTask.join("\n"));
  assert.match(wrongTask[0], /^ExecStart does not start with "dts worker --task %i"/);
});

Deno.test("dts-worker.target starts with the system and its instances are the enabled dts-worker@ units", () => {
  const target = parseUnitFile(targetText);
  assert.deepEqual(listValue(target, "Install", "WantedBy"), ["multi-user.target"]);
});

/**
 * A folder holding the unit and target as shipped, except that ExecStart runs a
 * stub: `verify` requires the binary to exist, and no dts is installed here.
 */
async function verifiableCopy(unit: string): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "dts_systemd_" });
  const stub = `${dir}/dts`;
  await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  await Deno.writeTextFile(`${dir}/${UNIT_NAME}`, unit.replaceAll("/usr/local/bin/dts", stub));
  await Deno.writeTextFile(`${dir}/${TARGET_NAME}`, targetText);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function analyze(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(systemdAnalyze!, { args, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

/** `systemd-analyze verify` of instance `a` and the target: exit code and the lines about them. */
async function verify(unit: string): Promise<{ code: number; lines: string[] }> {
  await using copy = await verifiableCopy(unit);
  const { code, output } = await analyze([
    "verify",
    "--man=no",
    "--generators=no",
    `${copy.dir}/dts-worker@a.service`,
    `${copy.dir}/${TARGET_NAME}`,
  ]);
  // Only lines about these units count: a host may have complaints of its own.
  const lines = output.split("\n").filter((line) =>
    line.includes(copy.dir) || line.includes("dts-worker")
  );
  return { code, lines: lines.map((line) => line.replaceAll(copy.dir, "<dir>")) };
}

Deno.test({
  name: `systemd-analyze verify accepts dts-worker@a.service and dts-worker.target${WHY_IGNORED}`,
  ignore: systemdAnalyze === null,
  async fn() {
    assert.deepEqual(await verify(unitText), { code: 0, lines: [] });
  },
});

Deno.test({
  name: `systemd-analyze verify reports a broken copy of the unit${WHY_IGNORED}`,
  ignore: systemdAnalyze === null,
  async fn() {
    // verify exits 0 on a bad value or an unknown key; only its output tells.
    const broken = await verify(
      mutated("\nKillMode=mixed\n", "\nKillMode=mixd\nKillModus=mixed\n"),
    );
    assert.equal(broken.lines.length, 2, broken.lines.join("\n"));
    assert.match(broken.lines[0], /Failed to parse kill mode specification, ignoring: mixd/);
    assert.match(broken.lines[1], /Unknown key '?KillModus'? in section \[Service\]/);
  },
});

Deno.test({
  name: `systemd-analyze security rates dts-worker@a.service at most ${
    MAX_EXPOSURE / 10
  } exposure${WHY_IGNORED}`,
  ignore: systemdAnalyze === null,
  async fn() {
    await using copy = await verifiableCopy(unitText);
    const { code, output } = await analyze([
      "security",
      "--offline=yes",
      "--man=no",
      `--threshold=${MAX_EXPOSURE}`,
      `${copy.dir}/dts-worker@a.service`,
    ]);
    const overall = /Overall exposure level for \S+: ([\d.]+)/.exec(output)?.[1];
    assert.ok(overall !== undefined, `no overall exposure in:\n${output}`);
    assert.equal(code, 0, `exposure ${overall} is above ${MAX_EXPOSURE / 10}:\n${output}`);
  },
});
