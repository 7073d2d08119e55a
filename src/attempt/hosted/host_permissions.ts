/**
 * What a plugin host may do: what its plugin declares, and nothing else.
 * @module
 */

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PluginPermissions } from "../../plugin/task_plugin.ts";

/**
 * The Web Worker permissions of a host for `moduleUrl`: read access to the
 * plugin's own folder (it must be importable) plus what the plugin declares;
 * no FFI, no remote imports. Relative paths start at `cwd`.
 */
export function hostPermissions(
  moduleUrl: string,
  declared: PluginPermissions,
  cwd: string,
): Deno.PermissionOptionsObject {
  const folder = moduleUrl.startsWith("file:") ? dirname(fileURLToPath(moduleUrl)) : null;
  return {
    read: paths(declared.read, cwd, folder === null ? [] : [folder]),
    write: paths(declared.write, cwd, []),
    net: names(declared.net),
    env: names(declared.env),
    run: names(declared.run),
    sys: names(declared.sys) as Deno.PermissionOptionsObject["sys"],
    ffi: false,
    import: false,
  };
}

function paths(
  value: readonly string[] | boolean | undefined,
  cwd: string,
  always: string[],
): boolean | string[] {
  if (value === true) return true;
  const list = [...always, ...(Array.isArray(value) ? value.map((p) => resolve(cwd, p)) : [])];
  return list.length === 0 ? false : list;
}

function names(value: readonly string[] | boolean | undefined): boolean | string[] {
  if (value === true) return true;
  return Array.isArray(value) && value.length > 0 ? [...value] : false;
}
