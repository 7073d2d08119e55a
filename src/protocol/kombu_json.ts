/**
 * JSON the way kombu (Celery's messaging library) reads and writes it.
 *
 * What Celery 5.2.6 / kombu 5.2.4 actually does (checked in kombu 5.2.4's
 * `kombu/utils/json.py`): it has NO `__type__` markers. Its encoder writes a
 * datetime or date as an ISO-8601 string (`+00:00` shortened to `Z`), a time as
 * `HH:MM:SS[.ffffff]`, and Decimal/UUID as `str()`; it cannot encode bytes at
 * all, and its decoder is plain `json.loads`.
 *
 * kombu 5.3 and later wrap those values as `{"__type__": T, "__value__": V}`
 * with T in datetime, date, time, decimal, uuid (`{"hex": …}`), bytes (a UTF-8
 * string) and base64. Newer Celery clients send those, so we decode them.
 *
 * Writing, we follow kombu 5.2 where it has an answer: a `Date` becomes its ISO
 * string, which every kombu reads back as a string. A `Uint8Array` has no 5.2
 * form, so it is written as kombu 5.3 writes bytes (`bytes` when valid UTF-8,
 * else `base64`): kombu 5.3+ reads bytes back, 5.2 sees the marker dict.
 * @module
 */

const TYPE_MARKER = '"__type__"';
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Parse JSON text written by kombu, decoding kombu 5.3+ type markers:
 * datetime/date → `Date`, time/uuid/decimal → `string`, bytes/base64 → `Uint8Array`.
 * Python's bare `NaN`, `Infinity` and `-Infinity` (which `json.dumps` writes) are accepted.
 * Text without `"__type__"` takes the plain `JSON.parse` path.
 * @throws {SyntaxError} when the text is not JSON
 */
export function parseKombuJson(text: string): unknown {
  const reviver = text.includes(TYPE_MARKER) ? reviveKombuValue : undefined;
  try {
    return JSON.parse(text, reviver);
  } catch (error) {
    if (!(error instanceof SyntaxError) || !PY_FLOAT.test(text)) throw error;
    return JSON.parse(markPythonFloats(text), reviveKombuValue);
  }
}

/**
 * Write a value as JSON that kombu reads: `Date` as an ISO-8601 string (as kombu 5.2),
 * `Uint8Array` as kombu 5.3's bytes marker. Plain values go straight to `JSON.stringify`.
 * @throws {TypeError} when the value cannot be written as JSON (undefined, bigint, cycles)
 */
export function stringifyKombuJson(value: unknown): string {
  // A walk for typed arrays costs far less than a JSON.stringify replacer (measured ~4x).
  const text = containsBytes(value, 0)
    ? JSON.stringify(value, replaceBytes)
    : JSON.stringify(value);
  if (text === undefined) throw new TypeError("Cannot encode JSON: value is not serialisable");
  return text;
}

function containsBytes(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (ArrayBuffer.isView(value)) return true;
  if (depth > 100) return false; // JSON.stringify reports real cycles itself
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (containsBytes(value[i], depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (containsBytes((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function replaceBytes(this: unknown, key: string, value: unknown): unknown {
  // `this[key]` is the value before any toJSON (a Node Buffer has one).
  const original = (this as Record<string, unknown>)[key];
  if (!(original instanceof Uint8Array)) return value;
  try {
    return { __type__: "bytes", __value__: utf8Decoder.decode(original) };
  } catch {
    return { __type__: "base64", __value__: toBase64(original) };
  }
}

function reviveKombuValue(_key: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (typeof record.__type__ !== "string" || !("__value__" in record)) return value;
  if (Object.keys(record).length !== 2) return value;
  const decoded = decodeMarker(record.__type__, record.__value__);
  // An unknown marker or a malformed value stays as it came: nothing is lost.
  return decoded === undefined ? value : decoded;
}

function decodeMarker(type: string, value: unknown): unknown {
  switch (type) {
    case "datetime":
      return typeof value === "string"
        ? parseDate(HAS_OFFSET.test(value) ? value : `${value}Z`)
        : undefined;
    case "date":
      return typeof value === "string" ? parseDate(value.slice(0, 10)) : undefined;
    case "time":
      return typeof value === "string" ? value : undefined;
    case "decimal":
      return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    case "uuid":
      return decodeUuid(value);
    case "bytes":
      return typeof value === "string" ? utf8Encoder.encode(value) : undefined;
    case "base64":
      return typeof value === "string" ? fromBase64(value) : undefined;
    case PY_FLOAT_MARKER:
      return typeof value === "string" && Object.hasOwn(PY_FLOATS, value)
        ? PY_FLOATS[value]
        : undefined;
    default:
      return undefined;
  }
}

const HAS_OFFSET = /(?:[zZ]|[+-]\d\d:?\d\d)$/;

/** Parse an ISO string; callers add `Z` to a naive datetime so it is read as UTC. */
function parseDate(text: string): Date | undefined {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function decodeUuid(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value !== "object" || value === null) return undefined;
  const hex = (value as Record<string, unknown>).hex;
  if (typeof hex !== "string" || !/^[0-9a-fA-F]{32}$/.test(hex)) return undefined;
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

// Python's json.dumps writes NaN/Infinity/-Infinity bare (allow_nan=True). On the rare
// parse failure that contains them, they are swapped for a private marker outside strings.
const PY_FLOAT = /NaN|Infinity/;
const PY_FLOAT_MARKER = "__dts_python_float__";
const PY_FLOATS: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
const PY_FLOAT_TOKEN = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

function markPythonFloats(text: string): string {
  return text.replace(
    PY_FLOAT_TOKEN,
    (token) =>
      token.startsWith('"') ? token : `{"__type__":"${PY_FLOAT_MARKER}","__value__":"${token}"}`,
  );
}
