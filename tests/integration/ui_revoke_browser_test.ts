/**
 * The dashboard's Revoke button in a real browser (chromium via Playwright)
 * on the real broker: a long task running on a `dts worker -E` shows
 * STARTED, and its Revoke ends it REVOKED on the page, in the dispatch's
 * results and in the worker's log (terminated); a task queued behind it,
 * revoked from the page, never runs. Screenshots go to .artifacts/ui/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { ARTIFACTS, launchBrowser } from "../helpers/browser.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { openDashboard, startUi, taskState } from "../helpers/dashboard.ts";
import { CliProcess } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, freePort, spawnWorker, tempDir, waitUntil } from "../helpers/test_kit.ts";

/** The ids of the rows of `task` on the page, by the state they show. */
async function rowsByState(page: Page, task: string): Promise<Map<string, string>> {
  const rows = await page.locator("tr[data-task]").evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute("data-task") ?? "",
      state: tr.getAttribute("data-state") ?? "",
      text: tr.textContent ?? "",
    }))
  );
  return new Map(rows.filter((r) => r.text.includes(task)).map((r) => [r.id, r.state]));
}

/** The worker's JSON log lines about task `id`. */
function logOf(worker: CliProcess, id: string): string[] {
  return worker.stderr.split("\n").filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { msg?: string; id?: string })
    .filter((entry) => entry.id === id).map((entry) => String(entry.msg));
}

Deno.test({
  name: "dts ui Revoke: a running task ends REVOKED (terminated); a queued one revoked never runs",
  sanitizeOps: false, // Playwright keeps its pipe to the browser open between awaits.
  sanitizeResources: false,
  fn: async () => {
    await using broker = await testBroker();
    const qs = testNamespace().queue("queue_slow");
    await using dir = await tempDir();
    const config = `${dir.path}/ui.yml`;
    // Two 60 s tasks on a worker that runs one at a time: one runs, one waits.
    await Deno.writeTextFile(
      config,
      `name: ui revoke test
tasks: { slow: { name: task_slow, queue: ${qs} } }
worker: { events: true, concurrency: 1 }
results: { dir: ${dir.path}/results }
dispatch: { events: true, timeout: 90s, jobs: [{ task: slow, count: 2, kwargs: { ms: 60000 } }] }
`,
    );
    const plugins = ["--plugins", FIXTURE_PLUGINS.good];
    const port = freePort();
    try {
      await using ui = await startUi({
        config,
        db: `${dir.path}/ui.sqlite`,
        port,
        broker: broker.url,
        extra: plugins,
      });
      await using worker = await spawnWorker(["--config", config, "--task", "slow", ...plugins], {
        brokerUrl: broker.url,
      });
      await using browser = await launchBrowser();
      const { page, errors } = await openDashboard(browser, port);

      await using dispatch = new CliProcess(
        ["dispatch", "--config", config, "--output", "json", ...plugins],
        { env: { DTS_BROKER_URL: broker.url } },
      );
      let running = "";
      let queued = "";
      await waitUntil("one task STARTED and one waiting on the page", async () => {
        const rows = await rowsByState(page, "task_slow");
        running = [...rows].find(([, state]) => state === "STARTED")?.[0] ?? "";
        queued = [...rows].find(([, state]) => state === "PENDING" || state === "RECEIVED")
          ?.[0] ?? "";
        return rows.size === 2 && running !== "" && queued !== "";
      }, 30_000);
      await page.screenshot({ path: `${ARTIFACTS}revoke_before.png`, fullPage: true });

      // The queued one first: once the running one is gone, the worker would take it.
      for (const id of [queued, running]) {
        await page.locator(`tr[data-task="${id}"]`).getByRole("button", { name: "Revoke" }).click();
        await page.locator(".notice", { hasText: `Revoked ${id}` }).waitFor({ timeout: 10_000 });
      }
      await waitUntil(
        "both REVOKED on the page",
        async () =>
          (await taskState(page, running)) === "REVOKED" &&
          (await taskState(page, queued)) === "REVOKED",
        20_000,
      );
      for (const id of [running, queued]) {
        const row = page.locator(`tr[data-task="${id}"]`);
        assert.equal(
          await row.getByRole("button", { name: "Revoke" }).count(),
          0,
          "no button left",
        );
      }
      await page.screenshot({ path: `${ARTIFACTS}revoke_after.png`, fullPage: true });

      // The dispatch ends with both REVOKED, long before the tasks' 60 s.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = await Promise.race([
        dispatch.finished(),
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () => reject(new Error(`dispatch still running:\n${dispatch.output}`)),
            30_000,
          )
        ),
      ]).finally(() => clearTimeout(timer));
      const doc = JSON.parse(done.stdout) as { tasks: { id: string; status: string }[] };
      assert.deepEqual(
        Object.fromEntries(doc.tasks.map((t) => [t.id, t.status])),
        { [running]: "REVOKED", [queued]: "REVOKED" },
        done.stderr,
      );
      await waitUntil(
        "the worker's log of both",
        () =>
          logOf(worker, running).includes("Task terminated: revoked") &&
          logOf(worker, queued).includes("Not running a revoked task"),
        10_000,
      );
      assert.ok(!logOf(worker, queued).includes("Task started"), "the queued task never ran");
      const stored = await (await fetch(`http://127.0.0.1:${port}/api/tasks?q=${queued}`)).json();
      assert.equal(stored[0]?.startedMs, null, "no task-started for the queued task");
      assert.deepEqual(errors, []);
      await ui.stop(10_000);
    } finally {
      await deleteQueues(broker.url, [qs]);
    }
  },
});
