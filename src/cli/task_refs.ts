/**
 * Every place a config names a task by key (dispatch jobs, `load.task`,
 * `scaling`, `schedules`), checked against what is known: the config's `tasks` and the
 * loaded plugins. An unknown name would create `queue_<name>` and wait for a
 * worker that never comes, so it is a config problem with its path and line.
 * @module
 */
import type { ConfigDocument } from "../config/load.ts";
import { formatPath } from "../config/issue_messages.ts";
import type { ConfigIssue } from "../errors.ts";
import type { LoadedPlugin } from "../plugin/load_plugins.ts";
import { isKnownTask, knownTaskRefs, resolveRoute } from "../plugin/resolve_tasks.ts";

/** Which references to check. */
export type TaskRefSection = "jobs" | "load" | "scaling" | "schedules";

/** One place the config names a task. */
interface TaskRef {
  path: (string | number)[];
  ref: string;
  /** `dts scale` starts dts workers: the task needs a plugin, not only a config entry. */
  needsPlugin: boolean;
}

function taskRefs(doc: ConfigDocument, sections: readonly TaskRefSection[]): TaskRef[] {
  const { config } = doc;
  const refs: TaskRef[] = [];
  if (sections.includes("jobs")) {
    config.dispatch.jobs.forEach((job, index) =>
      refs.push({ path: ["dispatch", "jobs", index, "task"], ref: job.task, needsPlugin: false })
    );
  }
  if (sections.includes("load") && config.load.task !== null) {
    refs.push({ path: ["load", "task"], ref: config.load.task, needsPlugin: false });
  }
  if (sections.includes("scaling")) {
    for (const key of Object.keys(config.scaling)) {
      refs.push({ path: ["scaling", key], ref: key, needsPlugin: true });
    }
  }
  if (sections.includes("schedules")) {
    for (const schedule of Object.values(config.schedules)) {
      refs.push({
        path: ["schedules", schedule.name, "task"],
        ref: schedule.task,
        needsPlugin: false,
      });
    }
  }
  return refs;
}

/** Issues for the config's references to tasks that neither `tasks` nor a plugin defines. */
export function unknownTaskIssues(
  doc: ConfigDocument,
  plugins: readonly LoadedPlugin[],
  sections: readonly TaskRefSection[] = ["jobs", "load", "scaling", "schedules"],
): ConfigIssue[] {
  const sources = { tasks: doc.config.tasks, plugins };
  const known = knownTaskRefs(sources).join(", ") || "none";
  const issues: ConfigIssue[] = [];
  for (const { path, ref, needsPlugin } of taskRefs(doc, sections)) {
    let message: string | null = null;
    if (!isKnownTask(ref, sources)) {
      message =
        `names "${ref}", which neither a config tasks entry nor a plugin defines; known: ${known}`;
    } else if (needsPlugin) {
      const { name } = resolveRoute(ref, sources);
      if (!plugins.some((p) => p.plugin.name === name)) {
        const withPlugins = plugins.map((p) => p.plugin.name).join(", ") || "none";
        message =
          `names "${ref}" (${name}), which no plugin defines; dts scale starts dts workers, which need one; plugins: ${withPlugins}`;
      }
    }
    if (message === null) continue;
    const line = doc.lineOf(path);
    issues.push({ path: formatPath(path), message, ...(line === undefined ? {} : { line }) });
  }
  return issues;
}
