/**
 * Read plugin modules' default exports without running their code on the
 * worker's thread: each is imported in a plugin host that may read its own
 * folder and nothing else, so a plugin's top-level code cannot reach files,
 * the network or the environment before its declared permissions apply
 * (and then only inside `run`, in the host that runs it).
 * @module
 */

import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import type { PluginModuleRef, PluginModuleResult } from "../../plugin/load_plugins.ts";
import { PluginHost } from "./plugin_host.ts";

/** Stands in for `run` in a manifest: the real one runs only in a plugin host. */
function runsInAHost(): never {
  throw new TypeError("This plugin runs in a plugin host (HostedRunner), not on this thread");
}

/** The default export of each module (its fields, and `run` if it has one), or why it failed. */
export function readManifests(modules: readonly PluginModuleRef[]): Promise<PluginModuleResult[]> {
  return Promise.all(modules.map(async (module): Promise<PluginModuleResult> => {
    const folder = module.url.protocol === "file:" ? dirname(fileURLToPath(module.url)) : null;
    let started: Awaited<ReturnType<typeof PluginHost.start>>;
    try {
      started = await PluginHost.start({
        moduleUrl: module.url.href,
        source: module.source,
        permissions: {
          read: folder === null ? false : [folder],
          write: false,
          net: false,
          env: false,
          run: false,
          sys: false,
          ffi: false,
          import: false,
        },
        onLog: () => {},
        onStray: () => {},
      });
    } catch (error) {
      // The host's own description of the import error: message with its place.
      const cause = (error as { cause?: { message?: unknown } }).cause;
      const message = typeof cause?.message === "string" ? cause.message : String(error);
      return { ok: false, error: new Error(message) };
    }
    const { host, manifest } = started;
    host.terminate({ type: "PluginError", message: "manifest read" });
    if (!manifest.hasDefault) return { ok: true, exported: undefined };
    const fields = manifest.fields;
    if ("(default)" in fields) return { ok: true, exported: fields["(default)"] };
    return { ok: true, exported: { ...fields, ...(manifest.hasRun ? { run: runsInAHost } : {}) } };
  }));
}
