/**
 * deploy/kubernetes/: every manifest parses, names what it must, and the
 * objects agree with each other and with the worker (its health port, its
 * drain timeout, its task's queue); where kubectl is installed, kustomize
 * renders the folder.
 */
import assert from "node:assert/strict";
import { type ManifestFile, manifestProblems, readManifestFolder } from "./kubernetes_manifests.ts";

const FOLDER = new URL("../../deploy/kubernetes/", import.meta.url);
const files = await readManifestFolder(FOLDER);

/** The folder with `from` replaced by `to` in one file (which must contain it). */
function mutated(name: string, from: string, to: string): ManifestFile[] {
  return files.map((file) => {
    if (file.name !== name) return file;
    assert.ok(file.text.includes(from), `${name} no longer contains ${JSON.stringify(from)}`);
    return { name, text: file.text.replace(from, to) };
  });
}

Deno.test("deploy/kubernetes/ holds the namespace, broker Secret, config, KEDA auth and a worker per task", () => {
  assert.deepEqual(files.map((file) => file.name), [
    "broker-secret.yaml",
    "config.yaml",
    "keda.yaml",
    "kustomization.yaml",
    "namespace.yaml",
    "worker-a.yaml",
    "worker-b.yaml",
  ]);
});

Deno.test("deploy/kubernetes/ manifests agree with each other and with the worker's settings", async () => {
  assert.deepEqual(await manifestProblems(files), []);
});

Deno.test("manifestProblems() reports a wrong queue, a short grace period, a wrong probe and an unlisted file", async () => {
  assert.deepEqual(
    await manifestProblems(mutated("worker-b.yaml", "queueName: queue_b", "queueName: queue_a")),
    [
      'ScaledObject worker-b: trigger queueName "queue_a" is not "queue_b", the queue of Deployment worker-b',
    ],
  );
  const short = await manifestProblems(
    mutated(
      "worker-a.yaml",
      "terminationGracePeriodSeconds: 45",
      "terminationGracePeriodSeconds: 30",
    ),
  );
  assert.equal(short.length, 1, short.join("\n"));
  assert.match(
    short[0],
    /^Deployment worker-a: terminationGracePeriodSeconds 30 is not longer than/,
  );
  assert.deepEqual(
    await manifestProblems(mutated("worker-a.yaml", "path: /readyz", "path: /healthz")),
    ["Deployment worker-a: readinessProbe does not GET /readyz"],
  );
  assert.deepEqual(
    await manifestProblems(mutated("kustomization.yaml", "  - keda.yaml\n", "")),
    ["kustomization.yaml: resources does not list keda.yaml"],
  );
  assert.deepEqual(
    await manifestProblems(
      mutated("worker-a.yaml", "secretKeyRef: { name: dts-broker", "secretKeyRef: { name: broker"),
    ),
    ["Deployment worker-a: DTS_BROKER_URL is not from a secretKeyRef to a Secret key defined here"],
  );
});

Deno.test("manifestProblems() follows the worker's config: a longer drain_timeout needs a longer grace period", async () => {
  const problems = await manifestProblems(
    mutated("config.yaml", "drain_timeout: 30s", "drain_timeout: 60s"),
  );
  assert.deepEqual(problems.map((p) => p.split(":")[0]), [
    "Deployment worker-a",
    "Deployment worker-b",
  ]);
});

function onPath(command: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${command}`).isFile) return `${dir}/${command}`;
    } catch {
      // not in this folder
    }
  }
  return null;
}

const kubectl = onPath("kubectl");

Deno.test({
  name: `kubectl kustomize renders deploy/kubernetes/ into the dts namespace${
    kubectl === null ? " (ignored: kubectl is not on PATH; see kubernetes.io/docs/tasks/tools)" : ""
  }`,
  ignore: kubectl === null,
  async fn() {
    const out = await new Deno.Command(kubectl!, {
      args: ["kustomize", FOLDER.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const rendered = new TextDecoder().decode(out.stdout);
    const objects = rendered.split(/^---$/m).map((doc) => ({
      kind: /^kind: (\S+)$/m.exec(doc)?.[1],
      name: /^ {2}name: (\S+)$/m.exec(doc)?.[1],
      namespace: /^ {2}namespace: (\S+)$/m.exec(doc)?.[1],
    }));
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.name}`).sort(),
      [
        "ConfigMap/dts-config",
        "Deployment/worker-a",
        "Deployment/worker-b",
        "Namespace/dts",
        "PodDisruptionBudget/worker-a",
        "PodDisruptionBudget/worker-b",
        "ScaledObject/worker-a",
        "ScaledObject/worker-b",
        "Secret/dts-broker",
        "TriggerAuthentication/dts-rabbitmq",
      ],
    );
    for (const o of objects.filter((o) => o.kind !== "Namespace")) {
      assert.equal(o.namespace, "dts", `${o.kind}/${o.name} is not in namespace dts`);
    }
    assert.doesNotMatch(rendered, /image: dts:/, "kustomize did not rewrite the image");
  },
});
