import assert from "node:assert/strict";
import { createLogger, isLogLevel, type LogLevel, silentLogger } from "./logger.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";

const START = Date.UTC(2026, 10, 28, 10, 0, 0, 5);

function collect(
  format: "json" | "pretty",
  level: LogLevel = "debug",
  color = false,
): { lines: string[]; log: ReturnType<typeof createLogger>; clock: ManualClock } {
  const lines: string[] = [];
  const clock = new ManualClock(START);
  const log = createLogger({ format, level, write: (line) => lines.push(line), clock, color });
  return { lines, log, clock };
}

Deno.test("createLogger() writes one JSON object per line with ts, level and msg first", () => {
  const { lines, log } = collect("json");
  log.info("task succeeded", { task: "task_a", id: "4f09", retries: 0, duration_ms: 12.5 });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("\n"));
  const record = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(record), [
    "ts",
    "level",
    "msg",
    "task",
    "id",
    "retries",
    "duration_ms",
  ]);
  assert.deepEqual(record, {
    ts: "2026-11-28T10:00:00.005Z",
    level: "info",
    msg: "task succeeded",
    task: "task_a",
    id: "4f09",
    retries: 0,
    duration_ms: 12.5,
  });
});

Deno.test("createLogger() drops lines below the configured level", () => {
  const { lines, log } = collect("json", "warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(lines.map((l) => JSON.parse(l).level), ["warn", "error"]);
});

Deno.test("createLogger() rejects an unknown level", () => {
  assert.throws(
    () => createLogger({ format: "json", level: "loud" as LogLevel, write: () => {} }),
    RangeError,
  );
});

Deno.test("createLogger() turns Error fields into {type, message}", () => {
  const { lines, log } = collect("json");
  log.error("attempt failed", { error: new TypeError("boom"), nested: { e: new RangeError("x") } });
  const record = JSON.parse(lines[0]);
  assert.deepEqual(record.error, { type: "TypeError", message: "boom" });
  assert.deepEqual(record.nested.e, { type: "RangeError", message: "x" });
  assert.ok(!lines[0].includes("stack"));
});

Deno.test("createLogger() never lets a password reach the output", () => {
  const secret = "s3cr3t-Pa55";
  const url = `amqp://guest:${secret}@broker.example:5672/vhost`;
  for (const format of ["json", "pretty"] as const) {
    const { lines, log } = collect(format);
    log.info(`connecting to ${url}`, {
      broker: url,
      list: [url, { deep: url }],
      error: new Error(`Cannot connect to ${url}: refused`),
      password: secret,
      options: { pass: secret, apiKey: secret, token: secret },
      where: new URL(url),
    });
    log.child({ broker: url }).warn("retrying");
    const out = lines.join("\n");
    assert.ok(!out.includes(secret), `${format}: ${out}`);
    assert.ok(out.includes("amqp://guest:***@broker.example:5672/vhost"), format);
    if (format === "json") {
      for (const line of lines) JSON.parse(line);
      const record = JSON.parse(lines[0]);
      assert.equal(record.password, "***");
      assert.equal(record.options.pass, "***");
      assert.equal(
        record.error.message,
        "Cannot connect to amqp://guest:***@broker.example:5672/vhost: refused",
      );
    }
  }
});

Deno.test("Logger.child() adds its fields to every line and nests", () => {
  const { lines, log } = collect("json");
  const task = log.child({ task: "task_a", id: "1" });
  task.info("started", { retries: 0 });
  task.child({ id: "2" }).info("again");
  log.info("plain");
  const records = lines.map((l) => JSON.parse(l));
  assert.equal(records[0].task, "task_a");
  assert.equal(records[0].id, "1");
  assert.equal(records[0].retries, 0);
  assert.equal(records[1].id, "2");
  assert.equal(records[1].task, "task_a");
  assert.equal(records[2].task, undefined);
});

Deno.test("createLogger() keeps ts, level and msg when fields use those names", () => {
  const { lines, log } = collect("json");
  log.info("real", { msg: "fake", level: "error" });
  const record = JSON.parse(lines[0]);
  assert.equal(record.msg, "real");
  assert.equal(record.level, "info");
  assert.equal(record.field_msg, "fake");
  assert.equal(record.field_level, "error");
});

Deno.test("createLogger() survives circular, bigint and odd field values", () => {
  const { lines, log } = collect("json");
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  const shared = { a: 1 };
  log.info("odd", {
    loop,
    big: 10n,
    nan: Number.NaN,
    fn: function named() {},
    nothing: undefined,
    date: new Date(START),
    twice: [shared, shared],
  });
  const record = JSON.parse(lines[0]);
  assert.equal(record.loop.self, "[Circular]");
  assert.equal(record.big, "10");
  assert.equal(record.nan, "NaN");
  assert.equal(typeof record.fn, "string");
  assert.ok(!("nothing" in record));
  assert.equal(record.date, "2026-11-28T10:00:00.005Z");
  assert.deepEqual(record.twice, [{ a: 1 }, { a: 1 }]);
});

Deno.test("createLogger() ignores a write function that throws", () => {
  const log = createLogger({
    format: "json",
    level: "info",
    write: () => {
      throw new Error("stderr closed");
    },
  });
  log.info("still fine");
});

Deno.test("createLogger() pretty format prints time, level, msg and key=value", () => {
  const { lines, log, clock } = collect("pretty");
  clock.tick(1000);
  log.warn("task retry", { task: "task_a", retries: 2, reason: "two words", ok: true });
  const d = new Date(START + 1000);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  assert.equal(
    lines[0],
    `${hh}:${mm}:01.005 WARN  task retry task=task_a retries=2 reason="two words" ok=true`,
  );
});

Deno.test("createLogger() colours the level only when color is on", () => {
  const plain = collect("pretty", "debug", false);
  plain.log.error("bad");
  assert.ok(!plain.lines[0].includes("\x1b["));
  const coloured = collect("pretty", "debug", true);
  coloured.log.error("bad");
  assert.ok(coloured.lines[0].includes("\x1b[31mERROR\x1b[0m"));
});

Deno.test("createLogger() json format never contains colour codes", () => {
  const { lines } = (() => {
    const lines: string[] = [];
    const log = createLogger({
      format: "json",
      level: "info",
      write: (l) => lines.push(l),
      color: true,
    });
    log.error("bad");
    return { lines };
  })();
  assert.ok(!lines[0].includes("\x1b["));
});

Deno.test("silentLogger writes nothing and its child is silent too", () => {
  silentLogger.info("x", { a: 1 });
  assert.equal(silentLogger.child({ a: 1 }), silentLogger);
});

Deno.test("isLogLevel() accepts only the four level names", () => {
  assert.ok(isLogLevel("debug"));
  assert.ok(isLogLevel("error"));
  assert.ok(!isLogLevel("trace"));
  assert.ok(!isLogLevel("toString"));
  assert.ok(!isLogLevel(1));
});
