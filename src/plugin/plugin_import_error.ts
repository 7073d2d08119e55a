/**
 * Why a plugin module failed to import, in one line with its place: a syntax
 * error as `file:line:col`, a missing file, or an npm package dts cannot
 * provide (dts runs on its own frozen lockfile and never rewrites it).
 * @module
 */
import { fileURLToPath } from "node:url";

/** Where the plugin is and how to show paths. */
export interface ImportErrorContext {
  /** The plugin module's URL. */
  url: URL;
  /** How the plugin is named in messages, e.g. `plugins/task_a.ts`. */
  source: string;
  /** dts's own bare package names (its import map), which plugins may import. */
  packages: readonly string[];
  /** The working directory, to show other files relative to it. @default Deno.cwd() */
  cwd?: string;
}

const ANSI = new RegExp(String.raw`\x1b\[[0-9;]*m`, "g");
const LOCATION = /\bat (file:\/\/\S+?):(\d+):(\d+)\s*$/;
const BUNDLE_HINT =
  'bundle the plugin with it (deno bundle; README "Plugins that use npm packages")';

/** The reason to follow `Cannot load plugin "<source>": `. */
export function describeImportError(error: unknown, context: ImportErrorContext): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(ANSI, "");
  const first = text.split("\n")[0].trim();
  const at = location(text, context);
  if (/^The lockfile is out of date\b/.test(first)) {
    const added = [...text.matchAll(/^\s*\d*\s*\|?\s*\+\s*"(npm:[^"]+)":/gm)].map((m) => m[1]);
    const what = added.length === 0 ? "an npm package" : added.join(", ");
    return `imports ${what}, which dts does not ship (dts never rewrites its own deno.lock); ${BUNDLE_HINT}`;
  }
  // Where the package's registry data is not cached, Deno asks the registry
  // before it checks the lockfile, and says only that the fetch failed.
  const unfetched = /^Failed loading \S+ for package "([^"]+)"/.exec(first);
  if (unfetched) {
    return `imports the npm package "${unfetched[1]}"${
      at === null ? "" : ` (at ${at})`
    }, which dts does not ship (dts never rewrites its own deno.lock); ${BUNDLE_HINT}`;
  }
  const bare = /^Import "([^"]+)" not a dependency and not in import map/.exec(first);
  if (bare) {
    const own = context.packages.join(", ");
    return `imports "${bare[1]}"${
      at === null ? "" : ` (at ${at})`
    }, which is neither a file nor one of dts's own packages (${own}); ${BUNDLE_HINT}`;
  }
  const denied = /Requires (\w+) access( to [^,]+)?/.exec(first);
  if (denied) {
    return `its top-level code needs ${denied[1]} access${denied[2] ?? ""}${
      at === null ? "" : ` (at ${at})`
    }; a plugin's module code runs with no permissions: do that inside run(), where the permissions the plugin declares apply`;
  }
  const syntax = /^(?:TypeError: )?SyntaxError: (.*)$/.exec(first);
  if (syntax) return `syntax error at ${at ?? context.source}: ${syntax[1]}`;
  const missing = /^Module not found "([^"]+)"/.exec(first);
  if (missing) {
    const where = at === null ? "" : ` (at ${at})`;
    return `imports ${displayPath(missing[1], context)}, which does not exist${where}`;
  }
  return at === null || first.includes(at) ? first : `${first} (at ${at})`;
}

/** `path:line:col` of the last "at file://…:L:C" in the message, if any. */
function location(text: string, context: ImportErrorContext): string | null {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = LOCATION.exec(lines[i]);
    if (match) return `${displayPath(match[1], context)}:${match[2]}:${match[3]}`;
  }
  return null;
}

function displayPath(href: string, context: ImportErrorContext): string {
  if (href === context.url.href) return context.source;
  if (!href.startsWith("file://")) return href;
  const path = fileURLToPath(href);
  const cwd = (context.cwd ?? Deno.cwd()).replace(/\/+$/, "");
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}
