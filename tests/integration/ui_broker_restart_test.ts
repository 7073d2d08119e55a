/**
 * `dts ui` outlives its broker: on a private RabbitMQ node (the shared
 * broker is never restarted), with a `dts worker -E`, the node is SIGKILLed
 * and started again; the open page (chromium via Playwright) still shows
 * the tasks from before, and the tasks dispatched afterwards reach it live
 * and end SUCCESS, with no reload.
 */
import assert from "node:assert/strict";
import { ARTIFACTS, launchBrowser } from "../helpers/browser.ts";
import { openDashboard, startUi, taskState } from "../helpers/dashboard.ts";
import { runCli } from "../helpers/run_cli.ts";
import { startSecondBroker } from "../helpers/second_broker.ts";
import { freePort, spawnWorker, tempDir, waitUntil } from "../helpers/test_kit.ts";

Deno.test({
  name:
    "dts ui keeps its history and shows new tasks live after the broker is killed and restarted",
  sanitizeOps: false, // Playwright keeps its pipe to the browser open between awaits.
  sanitizeResources: false,
  fn: async () => {
    await using broker = await startSecondBroker();
    await using dir = await tempDir();
    const config = `${dir.path}/ui.yml`;
    await Deno.writeTextFile(
      config,
      `name: ui broker restart test
tasks: { a: { name: task_a, queue: queue_a } }
worker: { events: true }
results: { dir: ${dir.path}/results }
dispatch: { events: true, timeout: 30s, jobs: [{ task: a, count: 3 }] }
`,
    );
    const env = { DTS_BROKER_URL: broker.url };
    const dispatch = async (): Promise<string[]> => {
      const run = await runCli(["dispatch", "--config", config, "--output", "json"], { env });
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout).tasks.map((t: { id: string }) => t.id);
    };
    const port = freePort();
    await using ui = await startUi({
      config,
      db: `${dir.path}/ui.sqlite`,
      port,
      broker: broker.url,
    });
    await using _worker = await spawnWorker(["--config", config, "--task", "a"], {
      brokerUrl: broker.url,
    });
    await using browser = await launchBrowser();
    const { page, errors } = await openDashboard(browser, port);
    const allSucceeded = (ids: string[]) => async () =>
      (await Promise.all(ids.map((id) => taskState(page, id)))).every((s) => s === "SUCCESS");

    const before = await dispatch();
    await waitUntil("the first dispatch SUCCESS on the page", allSucceeded(before), 20_000);

    await broker.kill();
    await broker.restart();
    // The worker and dts ui reconnect by themselves; a dispatch may find the queue's consumer not back yet.
    await waitUntil("the worker consuming again", async () => {
      const info = await runCli(["status", "--config", config, "--json"], { env });
      return info.code === 0 && /"consumers":\s*1/.test(info.stdout);
    }, 30_000);
    const after = await dispatch();
    await waitUntil(
      "the dispatch after the restart SUCCESS on the page",
      allSucceeded(after),
      20_000,
    );
    for (const id of before) assert.equal(await taskState(page, id), "SUCCESS", `${id} kept`);
    assert.equal(await page.locator("#live.online").count(), 1, "the page's stream stayed up");

    // A fresh page gets it all from the server's snapshot too.
    const snapshot = await (await fetch(`http://127.0.0.1:${port}/api/snapshot`)).json() as {
      tasks: { id: string; state: string }[];
    };
    const states = new Map(snapshot.tasks.map((t) => [t.id, t.state]));
    for (const id of [...before, ...after]) assert.equal(states.get(id), "SUCCESS", id);
    await page.screenshot({
      path: `${ARTIFACTS}dashboard_after_broker_restart.png`,
      fullPage: true,
    });
    assert.deepEqual(errors, []);
    const stopped = await ui.stop(10_000);
    assert.equal(stopped.code, 0, stopped.stderr);
  },
});
