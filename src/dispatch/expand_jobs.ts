/**
 * A config's `dispatch.jobs` as the list of tasks to send.
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { DispatchJob } from "./dispatcher.ts";

/** Every send of the config's jobs, `count` times each, in order, with their places in the job graph. */
export function expandJobs(
  config: Config,
  route: (ref: string) => { name: string; queue: string; maxPriority?: number },
): DispatchJob[] {
  return config.dispatch.jobs.flatMap((job) => {
    const { name, queue, maxPriority } = route(job.task);
    return Array.from({ length: job.count }, () => ({
      task: name,
      queue,
      args: job.args,
      kwargs: job.kwargs,
      ...(job.priority === undefined ? {} : { priority: job.priority }),
      ...(maxPriority === undefined ? {} : { maxPriority }),
      ...(job.id === null ? {} : { job: job.id }),
      ...(job.after.length === 0 ? {} : { after: job.after, onFailure: job.onFailure }),
      ...(job.argsFrom === null ? {} : { argsFrom: job.argsFrom }),
    }));
  });
}
