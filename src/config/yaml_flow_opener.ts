/**
 * Where an unclosed flow collection (`[` or `{`) opened. The YAML parser
 * notices a missing `]` or `}` only where the next block starts (often the
 * line after the file's end); the useful place to point at is the opener.
 * @module
 */
import { Parser } from "yaml";

/** A flow collection in the text: its opening character and whether it is closed. */
interface FlowCollection {
  offset: number;
  opener: "[" | "{";
  closed: boolean;
}

/**
 * The offset of the innermost unclosed `opener` that starts before `errorOffset`,
 * or null when every such collection is closed (the error is about something else).
 */
export function unclosedFlowOpener(
  text: string,
  errorOffset: number,
  opener: "[" | "{",
): number | null {
  const collections: FlowCollection[] = [];
  for (const token of new Parser().parse(text)) collectFlow(token, collections);
  let found: number | null = null;
  for (const collection of collections) {
    if (collection.opener !== opener || collection.closed) continue;
    if (collection.offset >= errorOffset) continue;
    if (found === null || collection.offset > found) found = collection.offset;
  }
  return found;
}

/** Which opener a parser message about an unclosed flow collection means, if it is one. */
export function flowOpenerOf(message: string): "[" | "{" | null {
  if (/^Flow sequence\b.*\bend with a \]/.test(message)) return "[";
  if (/^Flow map\b.*\bend with a \}/.test(message)) return "{";
  return null;
}

/** Walk the concrete syntax tree (plain objects) and note every flow collection. */
function collectFlow(node: unknown, out: FlowCollection[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectFlow(item, out);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const token = node as Record<string, unknown>;
  if (token.type === "flow-collection") {
    const start = token.start as { source?: string; offset?: number } | undefined;
    const end = Array.isArray(token.end) ? token.end as { source?: string }[] : [];
    const opener = start?.source;
    if ((opener === "[" || opener === "{") && typeof start?.offset === "number") {
      const closer = opener === "[" ? "]" : "}";
      out.push({
        offset: start.offset,
        opener,
        closed: end.some((t) => t.source === closer),
      });
    }
  }
  for (const [key, value] of Object.entries(token)) {
    if (key !== "start" && typeof value === "object") collectFlow(value, out);
  }
}
