/**
 * scripts/test-containers' verdict on one dispatch run through the containers:
 * the results document (`dts dispatch --output json`) and, optionally, the
 * logs of the worker containers that served it.
 *
 *   deno run --allow-read tests/containers/check_dispatch.ts RESULTS.json \
 *     --expect task_a=300 [--logs DIR]
 *
 * With `--logs DIR` (one `<container>.log` per worker container of the task)
 * it also checks that each task ran exactly once ("Task succeeded" once per
 * id over all the logs; a worker stopped mid-run must not have run a task that
 * another one ran again) and that every container did some of the work.
 * Prints one line per worker and exits 1 with every problem found.
 * @module
 */
import { parseArgs } from "node:util";

/** One task of the results document, as far as this check reads it. */
interface TaskResult {
  task: string;
  id: string;
  status: string;
  worker: string | null;
}

/** What was expected and what was found. */
export interface DispatchCheck {
  problems: string[];
  /** Results per worker name. */
  resultsByWorker: Map<string, number>;
  /** Log lines "Task succeeded" for this run's ids, per container. */
  successesByContainer: Map<string, number>;
}

/** Check a results document against the expected count per task name. */
export function checkResults(
  doc: { tasks?: TaskResult[] },
  expected: ReadonlyMap<string, number>,
): Pick<DispatchCheck, "problems" | "resultsByWorker"> {
  const problems: string[] = [];
  const tasks = doc.tasks ?? [];
  const resultsByWorker = new Map<string, number>();
  for (const [name, count] of expected) {
    const found = tasks.filter((t) => t.task === name).length;
    if (found !== count) problems.push(`${name}: ${found} results, expected ${count}`);
  }
  const unexpected = tasks.filter((t) => !expected.has(t.task));
  if (unexpected.length > 0) problems.push(`${unexpected.length} results of unexpected tasks`);
  const ids = new Set(tasks.map((t) => t.id));
  if (ids.size !== tasks.length) problems.push(`${tasks.length - ids.size} duplicate task ids`);
  for (const t of tasks) {
    if (t.status !== "SUCCESS") problems.push(`${t.task} ${t.id}: ${t.status}`);
    const worker = t.worker ?? "(none)";
    resultsByWorker.set(worker, (resultsByWorker.get(worker) ?? 0) + 1);
  }
  return { problems, resultsByWorker };
}

/** Count, per container log, the "Task succeeded" lines of `ids`; flag ids not run exactly once. */
export function checkLogs(
  ids: ReadonlySet<string>,
  logs: ReadonlyMap<string, string>,
): Pick<DispatchCheck, "problems" | "successesByContainer"> {
  const runs = new Map<string, number>();
  const successesByContainer = new Map<string, number>();
  for (const [container, text] of logs) {
    let count = 0;
    for (const line of text.split("\n")) {
      if (!line.startsWith("{")) continue; // podman's own lines, if any
      let entry: { msg?: unknown; id?: unknown };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.msg !== "Task succeeded" || typeof entry.id !== "string") continue;
      if (!ids.has(entry.id)) continue; // another run's task (the seed dispatch)
      runs.set(entry.id, (runs.get(entry.id) ?? 0) + 1);
      count++;
    }
    successesByContainer.set(container, count);
  }
  const problems: string[] = [];
  const never = [...ids].filter((id) => !runs.has(id));
  const twice = [...runs].filter(([, n]) => n > 1);
  if (never.length > 0) problems.push(`${never.length} tasks never logged as succeeded`);
  if (twice.length > 0) {
    problems.push(
      `${twice.length} tasks ran more than once, e.g. ${twice[0][0]} (${twice[0][1]}×)`,
    );
  }
  for (const [container, n] of successesByContainer) {
    if (n === 0) problems.push(`container ${container} ran none of the tasks`);
  }
  return { problems, successesByContainer };
}

/** Read `<container>.log` files of a folder. */
async function readLogs(dir: string): Promise<Map<string, string>> {
  const logs = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".log")) continue;
    logs.set(entry.name.slice(0, -4), await Deno.readTextFile(`${dir}/${entry.name}`));
  }
  return logs;
}

function parseExpect(values: string[]): Map<string, number> {
  const expected = new Map<string, number>();
  for (const value of values) {
    const match = /^([\w.-]+)=(\d+)$/.exec(value);
    if (!match) throw new TypeError(`Cannot read --expect "${value}": write task_name=count`);
    expected.set(match[1], Number(match[2]));
  }
  return expected;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { expect: { type: "string", multiple: true }, logs: { type: "string" } },
  });
  if (positionals.length !== 1 || !values.expect) {
    console.error("usage: check_dispatch.ts RESULTS.json --expect task_a=300 [--logs DIR]");
    return 2;
  }
  const doc = JSON.parse(await Deno.readTextFile(positionals[0]));
  const results = checkResults(doc, parseExpect(values.expect));
  const problems = [...results.problems];
  for (const [worker, n] of results.resultsByWorker) console.log(`  ${worker}: ${n} results`);
  if (values.logs !== undefined) {
    const ids = new Set<string>((doc.tasks ?? []).map((t: TaskResult) => t.id));
    const logs = checkLogs(ids, await readLogs(values.logs));
    problems.push(...logs.problems);
    for (const [container, n] of logs.successesByContainer) {
      console.log(`  ${container}: ran ${n} of them (its log)`);
    }
    if (results.resultsByWorker.size !== logs.successesByContainer.size) {
      problems.push(
        `${results.resultsByWorker.size} worker names in the results, ` +
          `${logs.successesByContainer.size} worker containers`,
      );
    }
  }
  for (const problem of problems) console.error(`  problem: ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
