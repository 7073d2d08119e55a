/**
 * What the manifests in `deploy/kubernetes/` must say, checked on their
 * parsed YAML. The problems come back as text, so a test can show a mutated
 * copy failing as well as the real folder passing.
 * @module
 */
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/schema.ts";

/** One YAML file of the folder. */
export interface ManifestFile {
  name: string;
  text: string;
}

/** The `*.yaml`/`*.yml` files directly in `dir`, by name. */
export async function readManifestFolder(dir: URL): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !/\.ya?ml$/.test(entry.name)) continue;
    files.push({ name: entry.name, text: await Deno.readTextFile(new URL(entry.name, dir)) });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` below `value`, or undefined where any step is missing. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;
  for (const step of path) {
    if (typeof step === "number" ? !Array.isArray(node) : !isObj(node)) return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A parsed object, with the file it came from. */
interface Manifest {
  file: string;
  kind: string;
  name: string;
  doc: Obj;
}

/** Where a Deployment's worker stands, for the checks that span objects. */
interface WorkerDeployment {
  name: string;
  queue: string;
  templateLabels: Obj;
}

/** Everything wrong with the folder's manifests; empty when they are right. */
export async function manifestProblems(files: readonly ManifestFile[]): Promise<string[]> {
  const problems: string[] = [];
  const manifests: Manifest[] = [];
  let kustomization: { file: string; doc: Obj } | null = null;

  for (const file of files) {
    const docs = parseAllDocuments(file.text);
    if (!Array.isArray(docs)) {
      problems.push(`${file.name}: not a YAML stream`);
      continue;
    }
    for (const [index, parsed] of docs.entries()) {
      const where = `${file.name} document ${index + 1}`;
      for (const error of parsed.errors) problems.push(`${where}: ${error.message}`);
      const doc: unknown = parsed.toJS();
      if (doc === null || doc === undefined) continue;
      if (!isObj(doc)) {
        problems.push(`${where}: not a map`);
      } else if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
        problems.push(`${where}: no apiVersion or kind`);
      } else if (doc.kind === "Kustomization") {
        kustomization = { file: file.name, doc };
      } else {
        const name = at(doc, "metadata", "name");
        if (typeof name === "string" && name !== "") {
          manifests.push({ file: file.name, kind: doc.kind, name, doc });
        } else {
          problems.push(`${where}: ${doc.kind} has no metadata.name`);
        }
      }
    }
  }

  const named = (kind: string) =>
    new Map(manifests.filter((m) => m.kind === kind).map((m) => [m.name, m]));
  const secrets = named("Secret");
  const configMaps = named("ConfigMap");
  const triggerAuths = named("TriggerAuthentication");
  const secretHasKey = (name: unknown, key: unknown): boolean => {
    const secret = secrets.get(String(name));
    return secret !== undefined &&
      (at(secret.doc, "stringData", String(key)) !== undefined ||
        at(secret.doc, "data", String(key)) !== undefined);
  };

  const workers = new Map<string, WorkerDeployment>();
  for (const deployment of named("Deployment").values()) {
    const worker = await deploymentProblems(deployment, { configMaps, secretHasKey, problems });
    if (worker !== null) workers.set(worker.name, worker);
  }

  const scaled = new Set<string>();
  for (const so of named("ScaledObject").values()) {
    const where = `ScaledObject ${so.name}`;
    const target = at(so.doc, "spec", "scaleTargetRef", "name");
    const worker = workers.get(String(target));
    if (worker === undefined) {
      problems.push(
        `${where}: scaleTargetRef names "${target}", which is no worker Deployment here`,
      );
      continue;
    }
    scaled.add(worker.name);
    const min = Number(at(so.doc, "spec", "minReplicaCount") ?? 0);
    const max = Number(at(so.doc, "spec", "maxReplicaCount") ?? 100);
    if (!(min >= 0 && min <= max)) problems.push(`${where}: minReplicaCount > maxReplicaCount`);
    const triggers = list(at(so.doc, "spec", "triggers")).filter((t) =>
      at(t, "type") === "rabbitmq"
    );
    if (triggers.length !== 1) {
      problems.push(`${where}: has ${triggers.length} rabbitmq triggers, not one`);
      continue;
    }
    const trigger = triggers[0];
    const queue = at(trigger, "metadata", "queueName");
    if (queue !== worker.queue) {
      problems.push(
        `${where}: trigger queueName "${queue}" is not "${worker.queue}", the queue of Deployment ${worker.name}`,
      );
    }
    if (at(trigger, "metadata", "mode") !== "QueueLength") {
      problems.push(`${where}: trigger mode is not QueueLength`);
    }
    if (!(Number(at(trigger, "metadata", "value")) > 0)) {
      problems.push(`${where}: trigger value is not a positive number`);
    }
    const authName = at(trigger, "authenticationRef", "name");
    const auth = triggerAuths.get(String(authName));
    if (auth === undefined) {
      problems.push(
        `${where}: authenticationRef names "${authName}", no TriggerAuthentication here`,
      );
      continue;
    }
    const host = list(at(auth.doc, "spec", "secretTargetRef")).find((ref) =>
      at(ref, "parameter") === "host"
    );
    if (!secretHasKey(at(host, "name"), at(host, "key"))) {
      problems.push(`TriggerAuthentication ${auth.name}: host is not a key of a Secret here`);
    }
  }
  for (const worker of workers.values()) {
    if (!scaled.has(worker.name)) problems.push(`Deployment ${worker.name}: no ScaledObject`);
  }

  for (const pdb of named("PodDisruptionBudget").values()) {
    const selector = at(pdb.doc, "spec", "selector", "matchLabels");
    if (![...workers.values()].some((w) => labelsMatch(selector, w.templateLabels))) {
      problems.push(`PodDisruptionBudget ${pdb.name}: its selector matches no worker Deployment`);
    }
  }

  problems.push(...kustomizationProblems(kustomization, files));
  return problems;
}

function labelsMatch(selector: unknown, labels: Obj): boolean {
  return isObj(selector) && Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => labels[key] === value);
}

async function deploymentProblems(
  deployment: Manifest,
  context: {
    configMaps: Map<string, Manifest>;
    secretHasKey: (name: unknown, key: unknown) => boolean;
    problems: string[];
  },
): Promise<WorkerDeployment | null> {
  const { problems } = context;
  const where = `Deployment ${deployment.name}`;
  const spec = at(deployment.doc, "spec", "template", "spec");
  const templateLabels = at(deployment.doc, "spec", "template", "metadata", "labels");
  if (!isObj(templateLabels)) {
    problems.push(`${where}: the pod template has no labels`);
    return null;
  }
  if (!labelsMatch(at(deployment.doc, "spec", "selector", "matchLabels"), templateLabels)) {
    problems.push(`${where}: spec.selector.matchLabels does not match the template's labels`);
  }

  const containers = list(at(spec, "containers"));
  const container = containers.find((c) => argv(c).includes("worker"));
  if (container === undefined) {
    problems.push(`${where}: no container runs \`dts worker\``);
    return null;
  }
  const words = argv(container);
  const worker = words.indexOf("worker");
  const key = words[worker + 2];
  if (
    words[worker + 1] !== "--task" || key === undefined || words.indexOf("--task", worker + 2) >= 0
  ) {
    problems.push(`${where}: the container does not run \`worker --task <key>\` for one task`);
    return null;
  }

  const config = await containerConfig(where, spec, container, context);
  if (config === null) return null;

  const grace = Number(at(spec, "terminationGracePeriodSeconds") ?? 30);
  const stopMs = config.worker.drainTimeoutMs + config.worker.killGraceMs;
  if (!(grace * 1000 > stopMs)) {
    problems.push(
      `${where}: terminationGracePeriodSeconds ${grace} is not longer than drain_timeout + kill_grace (${
        stopMs / 1000
      }s)`,
    );
  }

  for (const [probe, path] of [["readinessProbe", "/readyz"], ["livenessProbe", "/healthz"]]) {
    const get = at(container, probe, "httpGet");
    if (at(get, "path") !== path) problems.push(`${where}: ${probe} does not GET ${path}`);
    const port = probePort(container, at(get, "port"));
    if (port !== config.worker.healthPort) {
      problems.push(
        `${where}: ${probe} port ${port} is not the worker's health port ${config.worker.healthPort}`,
      );
    }
  }

  const brokerUrl = list(at(container, "env")).find((e) => at(e, "name") === "DTS_BROKER_URL");
  const ref = at(brokerUrl, "valueFrom", "secretKeyRef");
  if (!context.secretHasKey(at(ref, "name"), at(ref, "key"))) {
    problems.push(
      `${where}: DTS_BROKER_URL is not from a secretKeyRef to a Secret key defined here`,
    );
  }

  const runAsNonRoot = at(container, "securityContext", "runAsNonRoot") ??
    at(spec, "securityContext", "runAsNonRoot");
  if (runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
  const security = at(container, "securityContext");
  if (at(security, "readOnlyRootFilesystem") !== true) {
    problems.push(`${where}: readOnlyRootFilesystem is not true`);
  }
  if (at(security, "allowPrivilegeEscalation") !== false) {
    problems.push(`${where}: allowPrivilegeEscalation is not false`);
  }
  if (!list(at(security, "capabilities", "drop")).includes("ALL")) {
    problems.push(`${where}: capabilities do not drop ALL`);
  }
  for (const bound of ["requests", "limits"]) {
    for (const resource of ["cpu", "memory"]) {
      if (at(container, "resources", bound, resource) === undefined) {
        problems.push(`${where}: no resources.${bound}.${resource}`);
      }
    }
  }

  return {
    name: deployment.name,
    queue: config.tasks[key]?.queue ?? `queue_${key}`,
    templateLabels,
  };
}

function argv(container: unknown): string[] {
  return [...list(at(container, "command")), ...list(at(container, "args"))].map(String);
}

/** A probe's port as a number: given as one, or as the name of a container port. */
function probePort(container: unknown, port: unknown): number | undefined {
  if (typeof port === "number") return port;
  const named = list(at(container, "ports")).find((p) => at(p, "name") === port);
  const number = at(named, "containerPort");
  return typeof number === "number" ? number : undefined;
}

/**
 * The config the container's worker runs with: the `--config` file from the
 * ConfigMap mounted at its folder, with the container's plain `DTS_*` values
 * over it, through dts's own loader (so defaults are the source's own).
 */
async function containerConfig(
  where: string,
  spec: unknown,
  container: unknown,
  context: { configMaps: Map<string, Manifest>; problems: string[] },
): Promise<Config | null> {
  const words = argv(container);
  const path = words.includes("--config") ? words[words.indexOf("--config") + 1] : undefined;
  if (path === undefined) {
    context.problems.push(`${where}: the worker gets no --config`);
    return null;
  }
  const folder = path.slice(0, path.lastIndexOf("/"));
  const file = path.slice(path.lastIndexOf("/") + 1);
  const mount = list(at(container, "volumeMounts")).find((m) => at(m, "mountPath") === folder);
  const volume = list(at(spec, "volumes")).find((v) => at(v, "name") === at(mount, "name"));
  const configMap = context.configMaps.get(String(at(volume, "configMap", "name")));
  const text = at(configMap?.doc, "data", file);
  if (typeof text !== "string") {
    context.problems.push(`${where}: --config ${path} is not a key of a ConfigMap mounted there`);
    return null;
  }
  const env: Record<string, string> = {};
  for (const variable of list(at(container, "env"))) {
    const value = at(variable, "value");
    if (typeof value === "string") env[String(at(variable, "name"))] = value;
  }
  try {
    return await loadConfig({ path, env, readTextFile: () => Promise.resolve(text) });
  } catch (error) {
    context.problems.push(`${where}: its config does not load: ${(error as Error).message}`);
    return null;
  }
}

function kustomizationProblems(
  kustomization: { file: string; doc: Obj } | null,
  files: readonly ManifestFile[],
): string[] {
  if (kustomization === null) return ["no Kustomization (kustomization.yaml)"];
  const { file, doc } = kustomization;
  const listed = list(doc.resources).map(String);
  const problems: string[] = [];
  for (const other of files) {
    if (other.name !== file && !listed.includes(other.name)) {
      problems.push(`${file}: resources does not list ${other.name}`);
    }
  }
  for (const name of listed) {
    if (!files.some((f) => f.name === name)) {
      problems.push(`${file}: lists ${name}, which is not here`);
    }
  }
  return problems;
}
