/**
 * Reading systemd unit files, and what `deploy/systemd/dts-worker@.service`
 * must say: the problems are returned as text, so a test can show a mutated
 * copy failing as well as the real file passing.
 * @module
 */

/** A unit file: section → key → every value assigned, in order (an empty one resets a list). */
export type UnitFile = Map<string, Map<string, string[]>>;

/**
 * Parse a unit file as systemd reads it: `[Section]` headers, `Key=Value`
 * lines, `#`/`;` comments, a trailing backslash continuing the line.
 * @throws {SyntaxError} on a line that is none of those
 */
export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | null = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${lines[++i].trim()}`;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = unit.get(header[1]) ?? new Map();
      unit.set(header[1], section);
      continue;
    }
    const eq = line.indexOf("=");
    if (section === null || eq <= 0) {
      throw new SyntaxError(`Cannot parse unit file: line ${i + 1} is not "Key=Value": ${line}`);
    }
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Every value of `section`.`key` (empty when unset). */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** The value systemd uses for a single-valued key: the last one. */
export function lastValue(unit: UnitFile, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** The words of a list-valued key after systemd's rules: an empty assignment resets the list. */
export function listValue(unit: UnitFile, section: string, key: string): string[] {
  let words: string[] = [];
  for (const value of values(unit, section, key)) {
    words = value === "" ? [] : [...words, ...value.split(/\s+/)];
  }
  return words;
}

const SPAN_UNITS: Readonly<Record<string, number>> = {
  us: 1e-6,
  ms: 1e-3,
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  hr: 3600,
  d: 86_400,
};

/**
 * A systemd time span (`45s`, `1min 30s`, `90`, `500ms`) in seconds; a bare number is seconds.
 * @throws {RangeError} on anything else
 */
export function parseTimespanSeconds(text: string): number {
  if (text === "infinity") return Number.POSITIVE_INFINITY;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let rest = text.trim();
  while (rest !== "") {
    const part = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.exec(rest);
    if (!part || !(part[2] in SPAN_UNITS)) {
      throw new RangeError(`Cannot parse time span "${text}"`);
    }
    total += Number(part[1]) * SPAN_UNITS[part[2]];
    rest = rest.slice(part[0].length);
  }
  return total;
}

/** Hardening settings the worker unit must have, with their values. */
export const REQUIRED_HARDENING: Readonly<Record<string, string>> = {
  NoNewPrivileges: "yes",
  ProtectSystem: "strict",
  ProtectHome: "yes",
  PrivateTmp: "yes",
  PrivateDevices: "yes",
  ProtectKernelTunables: "yes",
  ProtectKernelModules: "yes",
  ProtectKernelLogs: "yes",
  ProtectControlGroups: "yes",
  RestrictNamespaces: "yes",
  RestrictSUIDSGID: "yes",
  LockPersonality: "yes",
  SystemCallArchitectures: "native",
};

/** What the worker's stop must outlast, from the worker's config. */
export interface StopLimits {
  drainTimeoutMs: number;
  killGraceMs: number;
}

/** Everything wrong with a worker template unit; empty when it is right. */
export function workerUnitProblems(unit: UnitFile, limits: StopLimits): string[] {
  const problems: string[] = [];
  for (const section of ["Unit", "Service", "Install"]) {
    if (!unit.has(section)) problems.push(`no [${section}] section`);
  }

  const execStart = values(unit, "Service", "ExecStart");
  if (execStart.length !== 1) {
    problems.push(`ExecStart is set ${execStart.length} times, not once`);
  } else {
    const words = execStart[0].split(/\s+/);
    if (words[0] !== "/usr/local/bin/dts") {
      problems.push(`ExecStart runs "${words[0]}", not /usr/local/bin/dts`);
    }
    if (words.slice(1, 4).join(" ") !== "worker --task %i") {
      problems.push(`ExecStart does not start with "dts worker --task %i": ${execStart[0]}`);
    }
    const config = words[words.indexOf("--config") + 1];
    if (!words.includes("--config") || !config?.startsWith("/etc/dts/")) {
      problems.push("ExecStart gives no --config under /etc/dts/");
    }
  }

  const user = lastValue(unit, "Service", "User");
  const dynamic = lastValue(unit, "Service", "DynamicUser") === "yes";
  if (!dynamic && (user === undefined || user === "root" || user === "0")) {
    problems.push(`runs as ${user ?? "root (no User=)"}: set User= or DynamicUser=yes`);
  }
  if (!values(unit, "Service", "EnvironmentFile").includes("/etc/dts/broker.env")) {
    problems.push("no required EnvironmentFile=/etc/dts/broker.env (the broker URL)");
  }
  for (const assignment of values(unit, "Service", "Environment")) {
    if (/\bDTS_BROKER_URL=/.test(assignment)) {
      problems.push("Environment= sets DTS_BROKER_URL: its password belongs in broker.env");
    }
  }

  if (lastValue(unit, "Service", "Restart") !== "on-failure") {
    problems.push("Restart is not on-failure");
  }
  const restartSec = spanOrProblem(unit, "RestartSec", problems);
  if (restartSec !== null && (restartSec < 1 || restartSec > 60)) {
    problems.push(`RestartSec=${restartSec}s is not between 1s and 60s`);
  }
  if (!listValue(unit, "Service", "RestartPreventExitStatus").includes("2")) {
    problems.push("RestartPreventExitStatus does not hold 2 (bad config must not crash-loop)");
  }

  if (lastValue(unit, "Service", "KillSignal") !== "SIGTERM") {
    problems.push("KillSignal is not SIGTERM (the signal that drains a worker)");
  }
  const stopSec = spanOrProblem(unit, "TimeoutStopSec", problems);
  const stopNeedsMs = limits.drainTimeoutMs + limits.killGraceMs;
  if (stopSec !== null && stopSec * 1000 <= stopNeedsMs) {
    problems.push(
      `TimeoutStopSec=${stopSec}s is not longer than drain_timeout + kill_grace (${
        stopNeedsMs / 1000
      }s)`,
    );
  }

  for (const [key, want] of Object.entries(REQUIRED_HARDENING)) {
    const got = lastValue(unit, "Service", key);
    if (got !== want) problems.push(`${key}=${got ?? "(unset)"}, want ${want}`);
  }
  const families = listValue(unit, "Service", "RestrictAddressFamilies").sort().join(" ");
  if (families !== "AF_INET AF_INET6 AF_UNIX") {
    problems.push(`RestrictAddressFamilies is "${families}", want AF_INET AF_INET6 AF_UNIX`);
  }
  const capabilities = values(unit, "Service", "CapabilityBoundingSet");
  if (capabilities.length === 0 || listValue(unit, "Service", "CapabilityBoundingSet").length > 0) {
    problems.push("CapabilityBoundingSet is not empty (the worker needs no capability)");
  }
  const mdwe = lastValue(unit, "Service", "MemoryDenyWriteExecute");
  if (mdwe !== undefined && ["yes", "true", "on", "1"].includes(mdwe)) {
    problems.push("MemoryDenyWriteExecute is on: V8's JIT cannot run under it");
  }

  if (!listValue(unit, "Install", "WantedBy").includes("dts-worker.target")) {
    problems.push("[Install] WantedBy does not name dts-worker.target");
  }
  if (!listValue(unit, "Unit", "PartOf").includes("dts-worker.target")) {
    problems.push("[Unit] PartOf does not name dts-worker.target");
  }
  return problems;
}

function spanOrProblem(unit: UnitFile, key: string, problems: string[]): number | null {
  const text = lastValue(unit, "Service", key);
  if (text === undefined) {
    problems.push(`${key} is not set`);
    return null;
  }
  try {
    return parseTimespanSeconds(text);
  } catch {
    problems.push(`${key}=${text} is not a time span`);
    return null;
  }
}
