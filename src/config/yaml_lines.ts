/**
 * YAML text → plain data plus a way back from a path to its line, so every
 * config issue can say where it is. Syntax errors and duplicate keys become
 * issues with lines too.
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
} from "yaml";
import type { ConfigIssue } from "../errors.ts";
import { formatPath } from "./issue_messages.ts";
import { flowOpenerOf, unclosedFlowOpener } from "./yaml_flow_opener.ts";

/** A parsed YAML document and where its nodes are. */
export interface ParsedYaml {
  /** The document as plain data; undefined when it is empty or too broken to use. */
  value: unknown;
  /** Syntax errors and duplicate keys, each with its line. */
  issues: ConfigIssue[];
  /** True when `issues` holds syntax errors, so `value` must not be validated. */
  broken: boolean;
  /**
   * 1-based line of the node at `path` (for a map entry, the line of its key),
   * else of the deepest existing ancestor; undefined for an empty document.
   */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/** Parse YAML text, keeping line information for later issues. */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  const issues: ConfigIssue[] = [];
  let broken = false;
  for (const error of doc.errors) {
    if (error.code === "DUPLICATE_KEY") {
      const path = findKeyPath(doc, error.pos[0]);
      issues.push({
        path: path === null ? "" : formatPath(path),
        message: path === null
          ? "YAML syntax error: map keys must be unique"
          : "is given more than once (duplicate key)",
        line: lineAt(error.pos[0]),
      });
    } else {
      broken = true;
      issues.push({ path: "", ...syntaxIssue(text, error, lineAt) });
    }
  }
  let value: unknown = undefined;
  if (!broken) {
    try {
      value = doc.toJS({ maxAliasCount: 100 }) ?? undefined;
    } catch (error) {
      broken = true;
      issues.push({ path: "", message: `YAML syntax error: ${(error as Error).message}` });
    }
  }
  return { value, issues, broken, lineOf: (path) => lineOfPath(doc, path, lineAt) };
}

/** A syntax error's message and line; an unclosed `[` or `{` points at the line it opened on. */
function syntaxIssue(
  text: string,
  error: YAMLError,
  lineAt: (offset: number) => number,
): { message: string; line: number } {
  const message = firstLine(error);
  const opener = flowOpenerOf(message);
  const openedAt = opener === null ? null : unclosedFlowOpener(text, error.pos[0], opener);
  if (opener === null || openedAt === null) {
    return { message: `YAML syntax error: ${message}`, line: lineAt(error.pos[0]) };
  }
  const closer = opener === "[" ? "]" : "}";
  return {
    message: `YAML syntax error: "${opener}" is not closed with "${closer}"`,
    line: lineAt(openedAt),
  };
}

function firstLine(error: YAMLError): string {
  return error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

function lineOfPath(
  doc: Document,
  path: readonly (string | number)[],
  lineAt: (offset: number) => number,
): number | undefined {
  let node = doc.contents as Node | null;
  if (!node?.range) return undefined;
  let line = lineAt(node.range[0]);
  for (const key of path) {
    if (isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? null;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(key));
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (keyNode.range) line = lineAt(keyNode.range[0]);
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof key === "number") {
      const item = node.items[key] as Node | undefined;
      if (!item?.range) break;
      line = lineAt(item.range[0]);
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** The path of the map key that starts at `offset`, searching the whole document. */
function findKeyPath(doc: Document, offset: number): (string | number)[] | null {
  const search = (node: unknown, path: (string | number)[]): (string | number)[] | null => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const text = keyText(pair.key);
        if (text === undefined) continue;
        if ((pair.key as Node).range?.[0] === offset) return [...path, text];
        const found = search(pair.value, [...path, text]);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = search(item, [...path, index]);
        if (found) return found;
      }
    }
    return null;
  };
  return search(doc.contents, []);
}
