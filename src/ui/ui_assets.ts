/**
 * The page's script, built from `web/` by `deno task ui:bundle` into
 * `assets/` and committed (small, and the same bytes every build), and read
 * from there at run time: under `deno run` from the source tree, in the
 * binary from the copy `deno compile --include src/ui/assets/` embedded.
 * @module
 */

/** The bundled scripts, by file name. */
export type AssetName = "dashboard.js" | "load_report.js";

const cache = new Map<AssetName, Promise<string>>();

/** The text of one bundled asset (read once). */
export function readAsset(name: AssetName): Promise<string> {
  let text = cache.get(name);
  if (text === undefined) {
    text = Deno.readTextFile(new URL(`./assets/${name}`, import.meta.url));
    cache.set(name, text);
    text.catch(() => cache.delete(name));
  }
  return text;
}
