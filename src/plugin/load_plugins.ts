/**
 * Find and load plugin modules: the built-in `plugins/` folder and every
 * `--plugins DIR`. A broken plugin stops the start with its file and reason.
 * @module
 */
import { PluginError } from "../errors.ts";
import denoConfig from "../../deno.json" with { type: "json" };
import { describeImportError } from "./plugin_import_error.ts";
import { describePluginProblems } from "./plugin_schema.ts";
import type { TaskPlugin } from "./task_plugin.ts";

/** dts's own packages (its import map) that a plugin may import by bare name; testcontainers is for tests. */
const DTS_PACKAGES: readonly string[] = Object.keys(denoConfig.imports).filter((name) =>
  name !== "testcontainers"
);

/** A plugin module that passed the guard, with where it came from. */
export interface LoadedPlugin {
  plugin: TaskPlugin;
  /** Path or URL shown in messages. */
  source: string;
  /** The module's URL, for importing it again in a plugin host. */
  url: string;
}

/** One plugin module to read. */
export interface PluginModuleRef {
  url: URL;
  /** How messages name it, e.g. `plugins/task_a.ts`. */
  source: string;
}

/** A module's default export (untrusted until checked), or why it could not be imported. */
export type PluginModuleResult = { ok: true; exported: unknown } | { ok: false; error: unknown };

/** Reads the default exports of plugin modules. */
export type ReadPluginModules = (
  modules: readonly PluginModuleRef[],
) => Promise<PluginModuleResult[]>;

/** Where to look for plugins, and how to read them. */
export interface LoadPluginsOptions {
  /** Folders of the user's plugins (`--plugins DIR`), relative to the working directory. */
  dirs?: readonly string[];
  /** The built-in folder; `null` to leave it out. @default the `plugins/` folder next to `src/` */
  builtinDir?: URL | null;
  /**
   * How modules are read. The CLI reads them in plugin hosts
   * (`attempt/hosted/read_manifests.ts`), so their top-level code runs with no
   * permissions. @default import them on this thread, trusting their code
   */
  readModules?: ReadPluginModules;
}

/** Import each module on this thread: its top-level code runs with this process's permissions. */
export function importModules(modules: readonly PluginModuleRef[]): Promise<PluginModuleResult[]> {
  return Promise.all(modules.map(async (module): Promise<PluginModuleResult> => {
    try {
      const imported: Record<string, unknown> = await import(module.url.href);
      return { ok: true, exported: imported.default };
    } catch (error) {
      return { ok: false, error };
    }
  }));
}

/** The built-in plugin folder, inside the compiled binary or the checkout. */
export function builtinPluginDir(): URL {
  return new URL("../../plugins/", import.meta.url);
}

/**
 * Load every plugin module in the given folders.
 * @throws {PluginError} for a folder that cannot be read, a module that fails to import or has a bad default export, or a task name defined twice
 */
export async function loadPlugins(options: LoadPluginsOptions = {}): Promise<LoadedPlugin[]> {
  const folders: { url: URL; label: string }[] = [];
  const builtin = options.builtinDir === undefined ? builtinPluginDir() : options.builtinDir;
  if (builtin) folders.push({ url: builtin, label: "plugins" });
  for (const dir of options.dirs ?? []) {
    folders.push({ url: folderUrl(dir), label: dir.replace(/\/+$/, "") });
  }

  const modules: PluginModuleRef[] = [];
  for (const folder of folders) {
    for (const file of await listModules(folder.url, folder.label)) {
      modules.push({ url: new URL(file, folder.url), source: `${folder.label}/${file}` });
    }
  }
  const results = await (options.readModules ?? importModules)(modules);
  const loaded: LoadedPlugin[] = [];
  const byName = new Map<string, string>();
  modules.forEach((module, i) => {
    const plugin = checkPlugin(module, results[i]);
    const earlier = byName.get(plugin.name);
    if (earlier !== undefined) {
      throw new PluginError(
        `Cannot load plugin "${module.source}": task "${plugin.name}" is already defined by "${earlier}"`,
      );
    }
    byName.set(plugin.name, module.source);
    loaded.push({ plugin, source: module.source, url: module.url.href });
  });
  return loaded;
}

function folderUrl(dir: string): URL {
  const withSlash = dir.endsWith("/") ? dir : `${dir}/`;
  if (withSlash.startsWith("/")) return new URL(`file://${withSlash}`);
  return new URL(withSlash, `file://${Deno.cwd()}/`);
}

async function listModules(folder: URL, label: string): Promise<string[]> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (!entry.isFile && !entry.isSymlink) continue;
      if (!/\.(ts|js|mjs|mts)$/.test(entry.name) || /(_test|\.d)\.[mc]?[jt]s$/.test(entry.name)) {
        continue;
      }
      files.push(entry.name);
    }
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such folder" : String(error);
    throw new PluginError(`Cannot load plugins from "${label}": ${reason}`, { cause: error });
  }
  // Sorted, so "already defined by" names the same file on every host.
  return files.sort();
}

function checkPlugin(module: PluginModuleRef, result: PluginModuleResult): TaskPlugin {
  if (!result.ok) {
    const reason = describeImportError(result.error, {
      url: module.url,
      source: module.source,
      packages: DTS_PACKAGES,
    });
    throw new PluginError(`Cannot load plugin "${module.source}": ${reason}`, {
      cause: result.error,
    });
  }
  const problems = describePluginProblems(result.exported);
  if (problems !== null) {
    throw new PluginError(`Cannot load plugin "${module.source}": ${problems}`);
  }
  return result.exported as TaskPlugin;
}
