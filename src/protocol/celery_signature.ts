/**
 * Celery's signatures as they travel in a task message's `embed` (links,
 * error links, the rest of a chain): plain dicts, read here as untrusted
 * input. dts reads what a worker needs to send the next task: its name,
 * arguments, where it goes and under which id, and whether it is a group.
 * @module
 */

/** One signature, checked. */
export interface CelerySignature {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** An immutable signature takes no result from the task before it. */
  immutable: boolean;
  /** `queue` or `routing_key` of its options; null: Celery's default queue. */
  queue: string | null;
  /** Its options' `task_id`: the id its sender waits on; null: a new one. */
  taskId: string | null;
  replyTo: string | null;
  priority: number | null;
  /** A group's members (subtask_type `group`), else null. */
  members: CelerySignature[] | null;
  /** `subtask_type` when dts does not send that kind (a chord, a chain inside a link). */
  unsupported: string | null;
}

/** The queue a Celery task goes to when nothing routes it. */
export const CELERY_DEFAULT_QUEUE = "celery";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/**
 * Read a list of signatures (`callbacks`, `errbacks`, `chain`); null or absent is none.
 * @throws {TypeError} naming what is wrong, for anything not shaped like one
 */
export function readSignatures(value: unknown, where: string, depth = 0): CelerySignature[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${where} must be a list of signatures`);
  if (value.length > 1000) {
    throw new TypeError(`${where} holds ${value.length} signatures (at most 1000)`);
  }
  return value.map((item, i) => readSignature(item, `${where}[${i}]`, depth));
}

function readSignature(value: unknown, where: string, depth: number): CelerySignature {
  if (!isRecord(value)) throw new TypeError(`${where} must be a signature object`);
  if (depth > 8) throw new TypeError(`${where} nests groups more than 8 deep`);
  const options = isRecord(value.options) ? value.options : {};
  const kind = text(value.subtask_type);
  const kwargs = isRecord(value.kwargs) ? value.kwargs : {};
  const members = kind === "group"
    ? readSignatures(kwargs.tasks, `${where}.kwargs.tasks`, depth + 1)
    : null;
  const task = text(value.task);
  if (task === null) throw new TypeError(`${where}.task must be a task name`);
  if (value.args !== undefined && value.args !== null && !Array.isArray(value.args)) {
    throw new TypeError(`${where}.args must be a list`);
  }
  const priority = options.priority;
  return {
    task,
    args: Array.isArray(value.args) ? value.args : [],
    kwargs: kind === "group" ? {} : kwargs,
    immutable: value.immutable === true,
    queue: text(options.queue) ?? text(options.routing_key),
    taskId: text(options.task_id),
    replyTo: text(options.reply_to),
    priority: typeof priority === "number" && Number.isInteger(priority) ? priority : null,
    members,
    unsupported: kind === null || kind === "group" ? null : kind,
  };
}
