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

/** Where to look for plugins. */
export interface LoadPluginsOptions {
  /** Folders of the user's plugins (`--plugins DIR`), relative to the working directory. */
  dirs?: readonly string[];
  /** The built-in folder; `null` to leave it out. @default the `plugins/` folder next to `src/` */
  builtinDir?: URL | null;
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

  const loaded: LoadedPlugin[] = [];
  const byName = new Map<string, string>();
  for (const folder of folders) {
    for (const file of await listModules(folder.url, folder.label)) {
      const source = `${folder.label}/${file}`;
      const plugin = await importPlugin(new URL(file, folder.url), source);
      const earlier = byName.get(plugin.name);
      if (earlier !== undefined) {
        throw new PluginError(
          `Cannot load plugin "${source}": task "${plugin.name}" is already defined by "${earlier}"`,
        );
      }
      byName.set(plugin.name, source);
      loaded.push({ plugin, source, url: new URL(file, folder.url).href });
    }
  }
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

async function importPlugin(url: URL, source: string): Promise<TaskPlugin> {
  let module: Record<string, unknown>;
  try {
    module = await import(url.href);
  } catch (error) {
    const reason = describeImportError(error, { url, source, packages: DTS_PACKAGES });
    throw new PluginError(`Cannot load plugin "${source}": ${reason}`, { cause: error });
  }
  const problems = describePluginProblems(module.default);
  if (problems !== null) throw new PluginError(`Cannot load plugin "${source}": ${problems}`);
  return module.default as TaskPlugin;
}
