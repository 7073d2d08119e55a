/**
 * Which parts of Celery's canvas a task message carries in its `embed`.
 * @module
 */

import type { TaskMessage } from "../protocol/celery_task_message.ts";

/** Names of the canvas features in use: `chain`, `callbacks` (link), `errbacks` (link_error), `chord`. */
export function canvasFeatures(embed: TaskMessage["embed"]): string[] {
  const used = (value: unknown): boolean =>
    value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
  const names: string[] = [];
  if (used(embed?.chain)) names.push("chain");
  if (used(embed?.callbacks)) names.push("callbacks");
  if (used(embed?.errbacks)) names.push("errbacks");
  if (used(embed?.chord)) names.push("chord");
  return names;
}
