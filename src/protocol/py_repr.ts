/**
 * Python's `repr()` of JSON-like values, as Celery writes it in the `argsrepr` /
 * `kwargsrepr` headers (`[1]`, `{'x': 2}`) and as Python's `str(exception)` shows
 * exception arguments. Display only: it is never parsed back.
 * @module
 */

/** Celery's default `argsrepr_maxsize` / `kwargsrepr_maxsize`. */
export const PY_REPR_MAX_LENGTH = 1024;

/**
 * Python `repr()` of a JSON-like value, cut to `maxLength` characters plus `...`
 * (Celery's `saferepr` also cuts long reprs).
 * @example pyRepr({ x: [1, "a", null, true] }) === "{'x': [1, 'a', None, True]}"
 */
export function pyRepr(value: unknown, maxLength: number = PY_REPR_MAX_LENGTH): string {
  const parts: string[] = [];
  const budget = { left: maxLength };
  write(value, parts, budget, 0);
  const text = parts.join("");
  return text.length > maxLength ? `${text.slice(0, maxLength)}...` : text;
}

interface Budget {
  left: number;
}

function write(value: unknown, parts: string[], budget: Budget, depth: number): void {
  if (budget.left < 0) return;
  const text = reprScalar(value);
  if (text !== undefined) {
    push(text, parts, budget);
  } else if (depth > 32) {
    push("...", parts, budget);
  } else if (Array.isArray(value)) {
    push("[", parts, budget);
    for (let i = 0; i < value.length && budget.left >= 0; i++) {
      if (i > 0) push(", ", parts, budget);
      write(value[i], parts, budget, depth + 1);
    }
    push("]", parts, budget);
  } else {
    push("{", parts, budget);
    let first = true;
    for (const key in value as Record<string, unknown>) {
      if (budget.left < 0) break;
      push(first ? "" : ", ", parts, budget);
      first = false;
      push(`${reprString(key)}: `, parts, budget);
      write((value as Record<string, unknown>)[key], parts, budget, depth + 1);
    }
    push("}", parts, budget);
  }
}

function push(text: string, parts: string[], budget: Budget): void {
  parts.push(text);
  budget.left -= text.length;
}

function reprScalar(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return reprString(value);
    case "number":
      return reprNumber(value);
    case "boolean":
      return value ? "True" : "False";
    case "undefined":
      return "None";
    case "bigint":
      return value.toString();
    case "object":
      if (value === null) return "None";
      if (value instanceof Date) return reprString(value.toISOString());
      if (value instanceof Uint8Array) return reprBytes(value);
      return undefined;
    default:
      return String(value);
  }
}

function reprNumber(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  // Python prints big integers in full, where JS would switch to 1e+21.
  if (Number.isInteger(value) && Math.abs(value) >= 1e21) return BigInt(value).toString();
  return String(value);
}

/** Python quotes with `'` unless the text holds `'` and no `"`. */
function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  // deno-lint-ignore no-control-regex
  if (!/[\\'"\x00-\x1f\x7f]/.test(text)) return quote + text + quote;
  let out = quote;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char === "\\") out += "\\\\";
    else if (char === quote) out += `\\${quote}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return out + quote;
}

function reprBytes(bytes: Uint8Array): string {
  let out = "b'";
  for (const byte of bytes) {
    if (byte === 0x5c) out += "\\\\";
    else if (byte === 0x27) out += "\\'";
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte === 0x09) out += "\\t";
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return out + "'";
}
