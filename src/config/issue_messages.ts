/**
 * Zod issues phrased to follow a config path (`tasks.a.retry.factor must be >= 1`),
 * and flattened so each issue names exactly one key.
 * @module
 */
import type { z } from "zod";

/** One problem at one place in the raw (snake_case) document. */
export interface PathIssue {
  /** Keys and list indexes from the document root, e.g. `["dispatch", "jobs", 0, "task"]`. */
  path: (string | number)[];
  message: string;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a map",
  record: "a map",
  array: "a list",
};

/** Zod error map for config parsing: messages that read well after a path. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return "is required";
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      if (issue.expected === "int" && typeof issue.input === "number") {
        return `must be ${expected}`;
      }
      return `must be ${expected}, not ${describeValue(issue.input)}`;
    }
    case "too_small":
      if (issue.origin === "string") return "must not be empty";
      if (issue.origin === "array") return `must have at least ${issue.minimum} items`;
      return `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
      if (issue.origin === "array") return `must have at most ${issue.maximum} items`;
      return `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map(String).join(", ")}`;
    case "unrecognized_keys":
      return "is not allowed (unknown key)";
    default:
      return undefined;
  }
};

function describeValue(value: unknown): string {
  if (value === null) return "empty (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return TYPE_WORDS[typeof value] ?? typeof value;
}

/** Flatten zod issues: one issue per unknown key, and record-key issues with their own message. */
export function toPathIssues(issues: readonly z.core.$ZodIssue[]): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map((key) => typeof key === "number" ? key : String(key));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: [...path, key], message: "is not allowed (unknown key)" });
      }
    } else if (issue.code === "invalid_key") {
      out.push({ path, message: issue.issues[0]?.message ?? issue.message });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/**
 * Write a path the way messages show it: `dispatch.jobs[0].task`; the root is "".
 * Keys other than letters, digits, `_` and `-` are quoted: `tasks."b c"`.
 */
export function formatPath(path: readonly (string | number)[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") {
      text += `[${key}]`;
      continue;
    }
    const shown = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
    text += text === "" ? shown : `.${shown}`;
  }
  return text;
}
