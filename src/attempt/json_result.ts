/**
 * Whether a task's return value survives JSON unchanged (SPEC: "the return
 * value must be JSON-serialisable"). `JSON.stringify` does not refuse what it
 * cannot represent, it changes it: a Map or Set becomes `{}`, a function
 * disappears, NaN becomes null. A result that would arrive different from
 * what the plugin returned is refused, with where and why.
 * @module
 */

/** Results nested deeper than this are refused (a result is data, not a linked list). */
export const MAX_RESULT_DEPTH = 256;

/**
 * What stops `value` from being stored as JSON unchanged, or null when nothing does.
 * Plain objects, arrays, strings, finite numbers, booleans and null pass;
 * so does anything with a `toJSON()` (a Date) whose output passes;
 * `undefined` passes at the top (Python's None) and as an object member
 * (left out, as JSON does).
 * @example jsonResultProblem({ at: new Map() }) // "result.at is a Map, which JSON would store as {}"
 */
export function jsonResultProblem(value: unknown): string | null {
  if (value === undefined) return null;
  return problemAt(value, "result", new Set(), 0);
}

function problemAt(
  value: unknown,
  path: string,
  ancestors: Set<object>,
  depth: number,
): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${path} is ${value}, which JSON would store as null`;
    case "undefined":
      return `${path} is undefined, which JSON cannot hold here`;
    case "bigint":
      return `${path} is a BigInt, which JSON cannot hold`;
    case "function":
      return `${path} is a function, which JSON would drop`;
    case "symbol":
      return `${path} is a symbol, which JSON would drop`;
  }
  if (value === null) return null;
  const object = value as object;
  if (depth >= MAX_RESULT_DEPTH) return `${path} nests deeper than ${MAX_RESULT_DEPTH} levels`;
  if (ancestors.has(object)) return `${path} refers back to itself (a cycle)`;
  let toJSON: unknown;
  try {
    toJSON = (object as { toJSON?: unknown }).toJSON;
  } catch {
    return `${path} cannot be read`;
  }
  ancestors.add(object);
  try {
    if (typeof toJSON === "function") {
      let json: unknown;
      try {
        json = (toJSON as () => unknown).call(object);
      } catch (error) {
        return `${path}.toJSON() threw ${error instanceof Error ? error.name : typeof error}`;
      }
      return json === undefined ? null : problemAt(json, path, ancestors, depth + 1);
    }
    if (Array.isArray(object)) return arrayProblem(object, path, ancestors, depth);
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (proto?.constructor as { name?: unknown } | undefined)?.name;
      return `${path} is a ${typeof kind === "string" && kind !== "" ? kind : "class instance"}, ` +
        "which JSON would store as {} or as its fields only";
    }
    for (const key of Object.keys(object)) {
      const member = (object as Record<string, unknown>)[key];
      if (member === undefined) continue;
      const problem = problemAt(member, memberPath(path, key), ancestors, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  } catch {
    return `${path} cannot be read`;
  } finally {
    ancestors.delete(object);
  }
}

function arrayProblem(
  items: unknown[],
  path: string,
  ancestors: Set<object>,
  depth: number,
): string | null {
  for (let i = 0; i < items.length; i++) {
    const problem = problemAt(items[i], `${path}[${i}]`, ancestors, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
