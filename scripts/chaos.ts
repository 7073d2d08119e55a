/**
 * Chaos measurement: 1,000 tasks (or `--count N`) through `dts worker`
 * processes while TCP proxies cut every connection 5 times (`--cuts N`) and
 * workers are killed with SIGKILL (`--kills N`, each replaced by a new one).
 * Prints what was lost and duplicated, and whether any healthy task was
 * dead-lettered.
 *
 *   deno run --frozen -A scripts/chaos.ts [--count 1000] [--cuts 5] [--kills 1] [--task-ms 20] [--broker URL]
 * @module
 */
import { parseArgs } from "node:util";
import { runChaos } from "../tests/helpers/chaos_run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "1000" },
    cuts: { type: "string", default: "5" },
    kills: { type: "string", default: "1" },
    "task-ms": { type: "string", default: "20" },
    broker: { type: "string" },
  },
});
const brokerUrl = values.broker ?? Deno.env.get("DTS_TEST_BROKER_URL") ??
  "amqp://guest:guest@127.0.0.1:5672/";
const report = await runChaos({
  brokerUrl,
  count: Number(values.count),
  cuts: Number(values.cuts),
  kills: Number(values.kills),
  taskMs: Number(values["task-ms"]),
  log: (line) => console.error(line),
});
console.log(JSON.stringify(report, null, 2));
console.log(
  `tasks: ${report.sent}, lost: ${report.lost}, duplicate results: ${report.duplicateResults}, ` +
    `ran more than once (at-least-once): ${report.ranTwice}, connection cuts: ${report.cuts} ` +
    `(${report.connectionsCut} connections), worker SIGKILLs: ${report.killed}`,
);
Deno.exit(report.lost === 0 && report.duplicateResults === 0 ? 0 : 1);
