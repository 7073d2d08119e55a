/**
 * `deno task bench`: dts against the raw amqplib ceiling, in one run on one
 * broker, in alternated rounds (one round swings with the machine's load),
 * reported as medians and as ratios to the ceilings of the same run.
 *
 *   raw-minimal   amqplib: publish → consume → publish reply → ack, confirmed
 *                 and persistent, a tiny body and no headers
 *   raw-celery    the same loop sending the bytes dts sends (Celery v2 task,
 *                 rpc:// result): what the message format itself costs
 *   dts in-proc   a `Worker` (inline attempts) and `runLoad` in this process
 *   dts process   a `dts worker` process and `dts load`, as users run them
 *
 * Then: round trip p50/p99 with one task in flight, worker start to first
 * result, worker memory idle and under load, the seed dispatch's overhead,
 * and throughput with 1, 2 and 4 worker processes. Writes everything as
 * JSON to `.bench/latest.json`.
 *
 * Options: --count N (5000) --window W (100 in flight) --rounds R (5)
 * --broker URL (DTS_BROKER_URL or amqp://guest:guest@127.0.0.1:5672/)
 * --quick (fewer rounds and tasks, for a smoke run) --out FILE
 * --events (also "dts in-proc +events": worker events, task-sent and one
 * monitor subscribed, alternated with "dts in-proc" so the ratio is fair)
 * --events-only (just those two, in alternated rounds: the cost of events)
 * --tracing (adds "dts process traced": the same run with OpenTelemetry on,
 * `OTEL_DENO=true` exporting to a sink in this process, alternated with the
 * untraced one, and its ratio to it)
 * @module
 */
import { parseArgs } from "node:util";
import { coldStartMs } from "./bench/cold_start.ts";
import { dtsInProcess } from "./bench/dts_in_process.ts";
import { loadAgainstWorkers, type ProcessRun } from "./bench/dts_process.ts";
import { median, percentile, type Throughput } from "./bench/measure.ts";
import { rawLoop } from "./bench/raw_loop.ts";
import { seedOverhead } from "./bench/seed_overhead.ts";
import { startOtlpSink } from "./bench/otlp_sink.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "5000" },
    window: { type: "string", default: "100" },
    rounds: { type: "string", default: "5" },
    broker: { type: "string" },
    quick: { type: "boolean", default: false },
    events: { type: "boolean", default: false },
    "events-only": { type: "boolean", default: false },
    tracing: { type: "boolean", default: false },
    out: { type: "string", default: ".bench/latest.json" },
  },
});
const quick = values.quick;
const count = quick ? 1000 : Number(values.count);
const window = Number(values.window);
const rounds = quick ? 1 : Number(values.rounds);
const broker = values.broker ?? Deno.env.get("DTS_BROKER_URL") ??
  "amqp://guest:guest@127.0.0.1:5672/";
const load = { count, window };
const log = (line: string) => console.error(`bench: ${line}`);
const f0 = (n: number) => String(Math.round(n));

const sink = values.tracing ? startOtlpSink() : null;
const modes: Record<string, () => Promise<Throughput>> = {
  "raw-minimal": () => rawLoop(broker, "minimal", load),
  "raw-celery": () => rawLoop(broker, "celery", load),
  "dts in-proc": () => dtsInProcess(broker, load),
  "dts process": () => loadAgainstWorkers(broker, { workers: 1, concurrency: window, ...load }),
};
if (sink !== null) {
  modes["dts process traced"] = () =>
    loadAgainstWorkers(broker, { workers: 1, concurrency: window, ...load, env: sink.env() });
}
type Mode = string;
const withEvents = () => dtsInProcess(broker, load, { events: true });

if (values["events-only"]) {
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    off.push((await modes["dts in-proc"]()).perSecond);
    on.push((await withEvents()).perSecond);
    log(`round ${round}/${rounds}: events off ${f0(off.at(-1)!)}, on ${f0(on.at(-1)!)} tasks/s`);
  }
  const [offRate, onRate] = [median(off), median(on)];
  console.log(
    `events cost (dts in-proc, ${count} no-op tasks, ${window} in flight, medians of ${rounds}): ` +
      `off ${f0(offRate)} tasks/s, on ${f0(onRate)} tasks/s, on/off ${
        (onRate / offRate).toFixed(2)
      }`,
  );
  Deno.exit(0);
}
/** Only there with --events. */
const EVENTS_MODE = "dts in-proc +events";
if (values.events) modes[EVENTS_MODE] = withEvents;

const samples = new Map<Mode, Throughput[]>();
for (let round = 1; round <= rounds; round++) {
  for (const [mode, run] of Object.entries(modes) as [Mode, () => Promise<Throughput>][]) {
    const result = await run();
    samples.set(mode, [...(samples.get(mode) ?? []), result]);
    log(`round ${round}/${rounds} ${mode}: ${Math.round(result.perSecond)} tasks/s`);
  }
}
const rate = (mode: Mode) => median(samples.get(mode)!.map((s) => s.perSecond));
const processRuns = samples.get("dts process") as ProcessRun[];

log("round trips with one task in flight");
const rawOne = await rawLoop(broker, "minimal", { count: quick ? 200 : 1000, window: 1 });
const dtsOne: ProcessRun[] = [];
for (let i = 0; i < (quick ? 1 : 3); i++) {
  dtsOne.push(
    await loadAgainstWorkers(broker, {
      workers: 1,
      concurrency: 1,
      count: quick ? 200 : 1000,
      window: 1,
    }),
  );
}
log("cold start");
const colds: number[] = [];
for (let i = 0; i < (quick ? 1 : 3); i++) colds.push(await coldStartMs(broker));
log("seed dispatch");
const seed = await seedOverhead(broker);
log("1, 2 and 4 worker processes");
const scaling: Record<string, number> = {};
for (const workers of [1, 2, 4]) {
  const runs: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    runs.push(
      (await loadAgainstWorkers(broker, { workers, concurrency: window, ...load })).perSecond,
    );
  }
  scaling[workers] = median(runs);
}

const ceiling = rate("raw-minimal");
const celeryCeiling = rate("raw-celery");
const result = {
  when: new Date().toISOString(),
  command: `deno task bench ${Deno.args.join(" ")}`.trim(),
  settings: { count, window, rounds },
  throughput: Object.fromEntries(
    (Object.keys(modes) as Mode[]).map((mode) => [mode, {
      median: Math.round(rate(mode)),
      rounds: samples.get(mode)!.map((s) => Math.round(s.perSecond)),
    }]),
  ),
  ratios: {
    ...(sink === null ? {} : {
      "dts process traced / dts process": rate("dts process traced") / rate("dts process"),
    }),
    "dts process / raw-minimal": rate("dts process") / ceiling,
    "dts process / raw-celery": rate("dts process") / celeryCeiling,
    "dts in-proc / raw-minimal": rate("dts in-proc") / ceiling,
    "raw-celery / raw-minimal": celeryCeiling / ceiling,
    ...(values.events
      ? { "dts in-proc +events / dts in-proc": rate(EVENTS_MODE) / rate("dts in-proc") }
      : {}),
  },
  roundTripMs: {
    raw: { p50: percentile(rawOne.latenciesMs!, 50), p99: percentile(rawOne.latenciesMs!, 99) },
    dts: { p50: median(dtsOne.map((r) => r.p50Ms)), p99: median(dtsOne.map((r) => r.p99Ms)) },
  },
  coldStartMs: median(colds),
  workerRssMb: {
    idle: median(processRuns.map((r) => r.rss.idleMb)),
    loaded: median(processRuns.map((r) => r.rss.loadedMb)),
  },
  seedDispatch: seed,
  workerProcesses: scaling,
  ...(sink === null ? {} : { tracingExport: { ...sink.received } }),
};
await sink?.[Symbol.asyncDispose]();

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const rows: [string, string, string][] = [
  ["raw-minimal (ceiling)", `${f0(ceiling)} tasks/s`, "1.00"],
  ["raw-celery", `${f0(celeryCeiling)} tasks/s`, f2(result.ratios["raw-celery / raw-minimal"])],
  [
    "dts in-process",
    `${f0(rate("dts in-proc"))} tasks/s`,
    f2(result.ratios["dts in-proc / raw-minimal"]),
  ],
  ...(values.events
    ? [[
      "dts in-process, events on",
      `${f0(rate(EVENTS_MODE))} tasks/s`,
      `${f2(result.ratios["dts in-proc +events / dts in-proc"]!)} of events off`,
    ] as [string, string, string]]
    : []),
  [
    "dts worker process + dts load",
    `${f0(rate("dts process"))} tasks/s`,
    `${f2(result.ratios["dts process / raw-minimal"])} (${
      f2(result.ratios["dts process / raw-celery"])
    } of raw-celery)`,
  ],
  ...(sink === null ? [] : [[
    "dts process, tracing on (OTEL_DENO=true)",
    `${f0(rate("dts process traced"))} tasks/s`,
    `${f2(rate("dts process traced") / rate("dts process"))} of untraced`,
  ] as [string, string, string]]),
  [
    "round trip, 1 in flight, p50 / p99",
    `dts ${f1(result.roundTripMs.dts.p50)} / ${f1(result.roundTripMs.dts.p99)} ms`,
    `raw ${f1(result.roundTripMs.raw.p50)} / ${f1(result.roundTripMs.raw.p99)} ms`,
  ],
  ["worker start to first result", `${f0(result.coldStartMs)} ms`, ""],
  [
    "worker RSS idle / under load",
    `${f0(result.workerRssMb.idle)} / ${f0(result.workerRssMb.loaded)} MB`,
    "",
  ],
  [
    "seed dispatch overhead (total − slower task)",
    `${f1(seed.overheadMs)} ms`,
    `total ${f0(seed.totalMs)} ms`,
  ],
  [
    "dts process, 1 / 2 / 4 worker processes",
    `${f0(scaling[1])} / ${f0(scaling[2])} / ${f0(scaling[4])} tasks/s`,
    `${f2(scaling[2] / scaling[1])}x / ${f2(scaling[4] / scaling[1])}x`,
  ],
];
const width = Math.max(...rows.map((r) => r[0].length));
const second = Math.max(...rows.map((r) => r[1].length));
console.log(
  `${result.command}: ${count} no-op tasks, ${window} in flight, medians of ${rounds} rounds`,
);
for (const [name, value, ratio] of rows) {
  console.log(`  ${name.padEnd(width)}  ${value.padEnd(second)}  ${ratio}`);
}
await Deno.mkdir(values.out.split("/").slice(0, -1).join("/") || ".", { recursive: true });
await Deno.writeTextFile(values.out, JSON.stringify(result, null, 2) + "\n");
log(`wrote ${values.out}`);
