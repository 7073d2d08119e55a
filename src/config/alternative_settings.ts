/**
 * Settings that are alternatives: one source (flags, environment, file)
 * gives one of them. The pool of a worker is fixed (`worker.concurrency`)
 * or follows the backlog (`worker.autoscale`); a higher source's choice
 * replaces a lower one's, whichever of the two each chose, as precedence
 * does for one setting (`--autoscale 4,1` wins over a file's
 * `concurrency: 8`). One source giving both is a mistake to report.
 * @module
 */

/** Raw (snake_case) paths of the pool settings, in the order messages name them. */
export const POOL_SETTINGS: readonly (readonly string[])[] = [
  ["worker", "autoscale"],
  ["worker", "concurrency"],
];

/** The sources after precedence among alternatives, and a source that gave several. */
export interface AlternativesResult {
  /** The raw documents, lowest first; copied where a value was dropped. */
  sources: Record<string, unknown>[];
  /** Index of the highest source that sets any alternative, when it sets more than one. */
  clash: { source: number; paths: (readonly string[])[] } | null;
}

/**
 * Keep only the highest source's choice among `alternatives`: every lower
 * source loses all of them. `sources` are lowest first (file, env, flags).
 */
export function keepHighestAlternative(
  sources: readonly Record<string, unknown>[],
  alternatives: readonly (readonly string[])[],
): AlternativesResult {
  const out = [...sources];
  for (let index = out.length - 1; index >= 0; index--) {
    const set = alternatives.filter((path) => valueAt(out[index], path) !== undefined);
    if (set.length === 0) continue;
    for (let lower = 0; lower < index; lower++) {
      for (const path of alternatives) out[lower] = withoutPath(out[lower], path);
    }
    return { sources: out, clash: set.length > 1 ? { source: index, paths: set } : null };
  }
  return { sources: out, clash: null };
}

function valueAt(raw: unknown, path: readonly string[]): unknown {
  let node = raw;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** `raw` without the value at `path`; the maps on the way are copied, `raw` is not changed. */
function withoutPath(
  raw: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> {
  if (valueAt(raw, path) === undefined) return raw;
  const [key, ...rest] = path;
  const copy = { ...raw };
  if (rest.length === 0) delete copy[key];
  else copy[key] = withoutPath(raw[key] as Record<string, unknown>, rest);
  return copy;
}
