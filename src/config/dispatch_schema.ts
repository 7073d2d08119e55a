/**
 * The `dispatch` section: what `dts dispatch` sends, and in which order.
 * Jobs may name each other (`id`, `after`, `args_from`): a job waits for the
 * jobs it comes after, so the section is a graph, checked here for unknown
 * ids and cycles, each reported at its path and line.
 * @module
 */
import { z } from "zod";
import { durationMs, section, taskKey, wholeNumber } from "./schema_fields.ts";

/** A job id: letters, digits, `_`, `-` and `.`. */
export const JOB_ID_PATTERN: RegExp = /^[A-Za-z0-9_.-]+$/;

const jobId = () =>
  z.string().regex(
    JOB_ID_PATTERN,
    "must be a job id made of letters, digits, _, - or . (e.g. build)",
  );

const jobSchema = z.strictObject({
  id: jobId().optional().describe(
    "Names the job, for other jobs' after and args_from. Default: none (null).",
  ),
  task: taskKey().describe("A key of `tasks`, or a plugin's name without or with task_."),
  args: z.array(z.unknown()).default([]).describe("Positional arguments. Default: []."),
  kwargs: z.record(z.string(), z.unknown()).default({}).describe("Keyword arguments. Default: {}."),
  count: wholeNumber(1).default(1).describe("How many times to send it. Default: 1."),
  priority: z.number().int().min(0).max(255).optional().describe(
    "AMQP priority of its messages; honoured when the task's queue has max_priority. Default: 0.",
  ),
  after: z.preprocess(
    (value) => typeof value === "string" ? [value] : value,
    z.array(jobId()),
  ).default([]).describe(
    "Ids of the jobs it waits for: it is sent once every task of theirs has ended. Default: [].",
  ),
  args_from: jobId().optional().describe(
    "A job whose result comes first in its args (a list of results when that job's count is above 1); it waits for that job too. Default: none (null).",
  ),
  on_failure: z.enum(["skip", "continue"]).default("skip").describe(
    "When a job it waits for did not fully succeed: skip (its tasks end SKIPPED) or continue (sent anyway; a failed task's result is null). Default: skip.",
  ),
}).transform((job) => ({
  id: job.id ?? null,
  task: job.task,
  args: job.args,
  kwargs: job.kwargs,
  count: job.count,
  ...(job.priority === undefined ? {} : { priority: job.priority }),
  // args_from is a dependency too: it cannot pass a result that has not come.
  after: [...new Set(job.args_from === undefined ? job.after : [...job.after, job.args_from])],
  argsFrom: job.args_from ?? null,
  onFailure: job.on_failure,
}));

type Job = z.output<typeof jobSchema>;

/** `dispatch`: what `dts dispatch` sends and how long it waits. */
export const dispatchSchema = section(
  z.strictObject({
    expected_workers: wholeNumber(0).optional()
      .describe("Warn when fewer workers answer a ping. Default: no check (null)."),
    timeout: durationMs({ positive: true }).default(60_000)
      .describe("Per task, from its send; then status TIMEOUT. Default: 60s."),
    jobs: z.array(jobSchema).default([]).describe(
      "Jobs to send, concurrently unless after orders them. Default: [].",
    ),
    events: z.boolean().default(false).describe(
      "Send Celery's task-sent event on celeryev for each task (Celery's task_send_sent_event). Default: false.",
    ),
  }).superRefine((dispatch, ctx) => {
    for (const problem of jobGraphProblems(dispatch.jobs)) {
      ctx.addIssue({ code: "custom", path: ["jobs", ...problem.path], message: problem.message });
    }
  }).transform((dispatch) => ({
    expectedWorkers: dispatch.expected_workers ?? null,
    timeoutMs: dispatch.timeout,
    jobs: dispatch.jobs,
    events: dispatch.events,
  })),
);

/** A problem of the jobs' graph, at a path below `dispatch.jobs`. */
interface GraphProblem {
  path: (string | number)[];
  message: string;
}

/** Duplicate ids, references to ids no job has, and cycles. */
export function jobGraphProblems(jobs: readonly Job[]): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const indexOf = new Map<string, number>();
  jobs.forEach((job, index) => {
    if (job.id === null) return;
    const first = indexOf.get(job.id);
    if (first === undefined) indexOf.set(job.id, index);
    else {
      problems.push({
        path: [index, "id"],
        message: `repeats the id "${job.id}" of dispatch.jobs[${first}]; ids must be unique`,
      });
    }
  });
  const ids = [...indexOf.keys()];
  const known = ids.length === 0 ? "no job has an id" : `ids: ${ids.join(", ")}`;
  jobs.forEach((job, index) => {
    if (job.argsFrom !== null && !indexOf.has(job.argsFrom)) {
      problems.push({
        path: [index, "args_from"],
        message: `names the job "${job.argsFrom}", which does not exist (${known})`,
      });
    }
    job.after.forEach((ref, position) => {
      if (ref === job.argsFrom || indexOf.has(ref)) return;
      problems.push({
        path: [index, "after", position],
        message: `names the job "${ref}", which does not exist (${known})`,
      });
    });
  });
  const cycle = findCycle(jobs, indexOf);
  if (cycle !== null) {
    const [first] = cycle;
    problems.push({
      path: [indexOf.get(first)!, "after"],
      message: `makes a cycle, so none of its jobs could ever start: ${
        [...cycle, first].join(" → ")
      }`,
    });
  }
  return problems;
}

/** One cycle of `after` edges as the ids along it, or null. Depth-first, without recursion. */
function findCycle(jobs: readonly Job[], indexOf: Map<string, number>): string[] | null {
  const state = new Map<string, "open" | "closed">();
  const afterOf = (id: string) => jobs[indexOf.get(id)!].after.filter((ref) => indexOf.has(ref));
  for (const start of indexOf.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [start];
    const next: number[] = [0];
    state.set(start, "open");
    while (path.length > 0) {
      const id = path[path.length - 1];
      const refs = afterOf(id);
      const i = next[next.length - 1]++;
      if (i >= refs.length) {
        state.set(id, "closed");
        path.pop();
        next.pop();
        continue;
      }
      const ref = refs[i];
      if (state.get(ref) === "open") return path.slice(path.indexOf(ref));
      if (state.has(ref)) continue;
      state.set(ref, "open");
      path.push(ref);
      next.push(0);
    }
  }
  return null;
}
