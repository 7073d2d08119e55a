/**
 * Merging raw config layers: later layers win, maps merge key by key,
 * lists and scalars replace, and undefined never overwrites.
 * @module
 */

/** True for `{}`-style objects (what YAML maps become), not lists, dates or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Merge `layers` left to right into a new object; none of them is changed.
 * A map does not replace a value that is there but is not a map (`worker: 3`),
 * so the invalid value stays and is reported by validation.
 */
export function deepMerge(...layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const current = Object.hasOwn(out, key) ? out[key] : undefined;
      let merged = value;
      if (isPlainObject(value) && isPlainObject(current)) merged = deepMerge(current, value);
      else if (isPlainObject(value) && current !== undefined && current !== null) merged = current;
      // defineProperty: a "__proto__" key stays a plain key (and is reported as unknown).
      Object.defineProperty(out, key, {
        value: merged,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}
