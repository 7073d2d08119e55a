/**
 * Loading config: flag > `DTS_*` env > YAML file > default. One partial raw
 * (snake_case) object per source, undefined dropped, merged in that fixed
 * order, then parsed once by `ConfigSchema`. Every problem is reported.
 * @module
 */
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { keepHighestAlternative, POOL_SETTINGS } from "./alternative_settings.ts";
import { deepMerge, isPlainObject } from "./deep_merge.ts";
import { configErrorMap, formatPath, toPathIssues } from "./issue_messages.ts";
import { type ConfigOverrides, envLayer, flagLayer, type OverrideLayer } from "./overrides.ts";
import { type Config, ConfigSchema, DEFAULT_CONFIG_NAME } from "./schema.ts";
import { parseYaml } from "./yaml_lines.ts";

export type { ConfigOverrides } from "./overrides.ts";

/** What `ConfigError.file` says when no config file was given (env or flag issues). */
export const NO_CONFIG_FILE = "(no config file)";

/** Where config comes from; every source is optional. */
export interface LoadConfigOptions {
  /** YAML file; without one there is no `name` requirement (it is `dts`). */
  path?: string;
  /** Values from command-line flags; they win over everything. */
  flags?: ConfigOverrides;
  /** Environment (`main.ts` passes `Deno.env.toObject()`). @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  /** How the file is read. @default Deno.readTextFile */
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Build the config from flags, environment, file and defaults.
 * @throws {ConfigError} listing every issue (unreadable file, YAML, schema, env or flag values)
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  return (await loadConfigDocument(options)).config;
}

/** A loaded config and where its values are, for checks made after loading. */
export interface ConfigDocument {
  config: Config;
  /** The file's name in messages, or `NO_CONFIG_FILE`. */
  file: string;
  /** 1-based line of a raw (snake_case) path in the file; undefined without a file. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

/**
 * `loadConfig`, keeping the way back from a path to its line.
 * @throws {ConfigError} listing every issue (unreadable file, YAML, schema, env or flag values)
 */
export async function loadConfigDocument(options: LoadConfigOptions = {}): Promise<ConfigDocument> {
  const { path } = options;
  const text = path === undefined
    ? undefined
    : await readConfigText(path, options.readTextFile ?? Deno.readTextFile);
  const result = compileConfig(text, options);
  const file = path ?? NO_CONFIG_FILE;
  if (result.config === null) throw new ConfigError(file, result.issues);
  return { config: result.config, file, lineOf: result.lineOf };
}

async function readConfigText(
  path: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<string> {
  try {
    return await readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      path,
      [{ path: "", message: `cannot read file: ${readFailure(error)}` }],
      {
        cause: error,
      },
    );
  }
}

function readFailure(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return "permission denied";
  }
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}

function compileConfig(
  text: string | undefined,
  options: Pick<LoadConfigOptions, "flags" | "env">,
): {
  config: Config | null;
  issues: ConfigIssue[];
  lineOf: (path: readonly (string | number)[]) => number | undefined;
} {
  const flags = flagLayer(options.flags ?? {});
  const env = envLayer(options.env ?? {}, new Set(flags.labels.keys()));
  const issues: ConfigIssue[] = [...flags.issues, ...env.issues];
  const yaml = text === undefined ? undefined : parseYaml(text);
  const lineOf = (path: readonly (string | number)[]) => yaml?.lineOf(path);
  let fileRaw: Record<string, unknown> = {};
  if (yaml !== undefined) {
    issues.push(...yaml.issues);
    if (yaml.broken) return { config: null, issues: sortByLine(issues), lineOf };
    if (isPlainObject(yaml.value)) {
      fileRaw = yaml.value;
    } else if (yaml.value !== undefined && yaml.value !== null) {
      const what = Array.isArray(yaml.value) ? "a list" : "a single value";
      issues.push({ path: "", message: `must be a map of settings, not ${what}`, line: 1 });
      return { config: null, issues: sortByLine(issues), lineOf };
    }
  }
  const base = yaml === undefined ? { name: DEFAULT_CONFIG_NAME } : {};
  const pool = keepHighestAlternative([fileRaw, env.raw, flags.raw], POOL_SETTINGS);
  if (pool.clash !== null) {
    const given = [null, { layer: env, source: "env" as const }, {
      layer: flags,
      source: "flag" as const,
    }][pool.clash.source] ?? null;
    issues.push(poolClashIssue(pool.clash.paths, given, lineOf));
  }
  const merged = deepMerge(base, ...pool.sources);
  const parsed = ConfigSchema.safeParse(merged, { error: configErrorMap });
  if (!parsed.success) {
    for (const issue of toPathIssues(parsed.error.issues)) {
      const where = formatPath(issue.path);
      const layer = flags.labels.has(where) ? flags : env.labels.has(where) ? env : null;
      if (layer !== null) {
        issues.push({
          path: layer.labels.get(where)!,
          message: issue.message,
          source: layer === flags ? "flag" : "env",
          value: layer.values.get(where)!,
        });
        continue;
      }
      const line = yaml?.lineOf(issue.path);
      issues.push({ path: where, message: issue.message, ...(line === undefined ? {} : { line }) });
    }
  }
  if (!parsed.success || issues.length > 0) {
    return { config: null, issues: sortByLine(issues), lineOf };
  }
  return { config: parsed.data, issues, lineOf };
}

/**
 * One source sets both pool settings: named by flag or variable with its
 * value, or by path and line in the file.
 */
function poolClashIssue(
  paths: readonly (readonly string[])[],
  given: { layer: OverrideLayer; source: "env" | "flag" } | null,
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): ConfigIssue {
  const [first, ...others] = paths.map(formatPath);
  const why = "the pool is either fixed (concurrency) or follows the backlog (autoscale); give one";
  if (given === null) {
    const line = lineOf(paths[0]);
    return {
      path: first,
      message: `cannot be set together with ${others.join(", ")}: ${why}`,
      ...(line === undefined ? {} : { line }),
    };
  }
  const { layer, source } = given;
  const separator = source === "env" ? "=" : " ";
  const rest = others.map((where) =>
    `${layer.labels.get(where)}${separator}${layer.values.get(where)}`
  );
  return {
    path: layer.labels.get(first)!,
    message: `cannot be combined with ${rest.join(", ")}: ${why}`,
    source,
    value: layer.values.get(first)!,
  };
}

/** File issues in line order, then those without a line (env, flags); stable otherwise. */
function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.map((issue, index) => ({ issue, index })).sort((a, b) =>
    (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.index - b.index
  ).map(({ issue }) => issue);
}
