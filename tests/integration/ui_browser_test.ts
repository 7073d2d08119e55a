/**
 * `dts ui` in a real browser (chromium via Playwright) on the real broker:
 * two `dts worker -E` processes show, a dispatch's tasks appear live and
 * reach SUCCESS, a dead letter shows and its Replay button re-queues it
 * (checked on the broker), the history is still there after `dts ui`
 * restarts, and `dts load --report` draws its charts. Screenshots go to
 * .artifacts/ui/ for a person to look at.
 */
import assert from "node:assert/strict";
import { createTaskMessage, encodeTaskMessage } from "../../src/protocol/celery_task_message.ts";
import { openTransport } from "../../src/transport/open_transport.ts";
import { deadLetterQueueName } from "../../src/transport/transport.ts";
import { ARTIFACTS, launchBrowser } from "../helpers/browser.ts";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { openDashboard, startUi, taskState } from "../helpers/dashboard.ts";
import { runCli } from "../helpers/run_cli.ts";
import { freePort, spawnWorker, tempDir, waitUntil } from "../helpers/test_kit.ts";

Deno.test({
  name: "dts ui shows workers, live tasks, dead letters with Replay, and history after a restart",
  sanitizeOps: false, // Playwright keeps its pipe to the browser open between awaits.
  sanitizeResources: false,
  fn: async () => {
    await using broker = await testBroker();
    const ns = testNamespace();
    const [qa, qb, qc] = ["queue_a", "queue_b", "queue_c"].map((q) => ns.queue(q));
    await using dir = await tempDir();
    const config = `${dir.path}/ui.yml`;
    await Deno.writeTextFile(
      config,
      `name: ui browser test
tasks: { a: { name: task_a, queue: ${qa} }, b: { name: task_b, queue: ${qb} }, c: { name: task_c, queue: ${qc} } }
worker: { events: true }
results: { dir: ${dir.path}/results }
dispatch: { events: true, expected_workers: 2, timeout: 30s, jobs: [{ task: a, count: 4 }, { task: b, count: 4 }] }
`,
    );
    const env = { DTS_BROKER_URL: broker.url };
    const port = freePort();
    const db = `${dir.path}/ui.sqlite`;
    await using transport = await openTransport(broker.url);
    try {
      let ui = await startUi({ config, db, port, broker: broker.url });
      await using workerA = await spawnWorker(["--config", config, "--task", "a"], {
        brokerUrl: broker.url,
      });
      await using workerB = await spawnWorker(["--config", config, "--task", "b"], {
        brokerUrl: broker.url,
      });
      await using browser = await launchBrowser();
      const { page, errors } = await openDashboard(browser, port);

      // Both workers, by the names they give themselves (worker-<task>.<pid>@<host>).
      for (const worker of [{ key: "a", p: workerA }, { key: "b", p: workerB }]) {
        const row = page.locator(`tr[data-worker^="worker-${worker.key}.${worker.p.pid}@"]`);
        await row.waitFor({ timeout: 20_000 });
        assert.match(await row.innerText(), /online/);
      }

      // A dispatch: its tasks reach the open page (no reload) and end SUCCESS there.
      const dispatch = await runCli(["dispatch", "--config", config, "--output", "json"], { env });
      assert.equal(dispatch.code, 0, dispatch.stderr);
      const ids: string[] = JSON.parse(dispatch.stdout).tasks.map((t: { id: string }) => t.id);
      assert.equal(ids.length, 8);
      await waitUntil("every dispatched task SUCCESS on the page", async () => {
        const states = await Promise.all(ids.map((id) => taskState(page, id)));
        return states.every((s) => s === "SUCCESS");
      }, 20_000);
      const row = await page.locator(`tr[data-task="${ids[0]}"]`).innerText();
      assert.match(row, /task_a|task_b/);
      assert.match(row, /worker-[ab]\.\d+@/, "the worker that ran it");
      // The saved results file is listed.
      await page.locator("#results a").first().waitFor({ timeout: 15_000 });
      // The queue table knows the test's queues, with their consumers.
      await page.locator(`tr[data-queue="${qa}"]`).waitFor();
      await page.waitForTimeout(2500); // a poll or two, so the charts have the dispatch
      // dispatch.events: the latency chart has publish-to-result beside the runtime.
      assert.match(await page.locator("#charts").innerText(), /runtime p50[\s\S]*sent→result p95/);
      const { series } = await (await fetch(`http://127.0.0.1:${port}/api/snapshot`)).json();
      assert.ok(series.sentP50.some((ms: number | null) => ms !== null), "sent→result charted");
      await page.screenshot({ path: `${ARTIFACTS}dashboard_tasks.png`, fullPage: true });

      // A dead letter of task_c (no worker consumes queue_c), as a worker writes one.
      const message = createTaskMessage("task_c", { args: [42], kwargs: {} });
      const encoded = encodeTaskMessage(message);
      await transport.assertTaskQueue(qc);
      await transport.publish(deadLetterQueueName(qc), encoded.body, {
        ...encoded.props,
        headers: {
          ...encoded.props.headers,
          "x-dts-reason": "RangeError: made dead by the test",
          "x-dts-original-queue": qc,
        },
      });
      const dead = page.locator(`[data-dead-queue="${qc}"]`);
      await dead.locator(`tr[data-dead="${message.id}"]`).waitFor({ timeout: 15_000 });
      assert.match(await dead.innerText(), /made dead by the test/);
      await page.screenshot({ path: `${ARTIFACTS}dashboard_dead_letter.png`, fullPage: true });
      await dead.getByRole("button", { name: "Replay" }).click();
      await page.locator("#dlq-notice", { hasText: `Replayed 1 to ${qc}` }).waitFor();
      // On the broker: back in its queue (nobody consumes it), gone from the dead letters.
      assert.equal((await transport.inspectQueue(qc))?.messages, 1);
      assert.equal((await transport.inspectQueue(deadLetterQueueName(qc)))?.messages, 0);
      const replayed = await transport.get(qc);
      assert.equal(replayed?.props.headers.id, message.id);
      await replayed?.ack();
      await dead.waitFor({ state: "detached", timeout: 10_000 });

      // Restart dts ui: the history comes back from SQLite.
      const stopped = await ui.stop(10_000);
      assert.equal(stopped.code, 0, stopped.stderr);
      ui = await startUi({ config, db, port, broker: broker.url });
      await page.reload();
      await page.waitForSelector("#live.online");
      for (const id of ids) assert.equal(await taskState(page, id), "SUCCESS", id);
      await page.fill("input[type=search]", ids[3]);
      assert.equal(await page.locator("tr[data-task]").count(), 1, "search by id");
      await page.screenshot({ path: `${ARTIFACTS}dashboard_after_restart.png`, fullPage: true });
      assert.deepEqual(errors, []);

      await using dark = await launchBrowser({ colorScheme: "dark" });
      const darkPage = dark.pages()[0] ?? await dark.newPage();
      await darkPage.goto(`http://127.0.0.1:${port}/`);
      await darkPage.waitForSelector("#live.online");
      await darkPage.waitForTimeout(1000);
      await darkPage.screenshot({ path: `${ARTIFACTS}dashboard_dark.png`, fullPage: true });
      await ui.stop(10_000);
    } finally {
      await deleteQueues(broker.url, [qa, qb, qc]);
    }
  },
});

Deno.test({
  name: "dts load --report writes a self-contained page whose charts render in the browser",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using broker = await testBroker();
    const ns = testNamespace();
    const qa = ns.queue("queue_a");
    await using dir = await tempDir();
    const config = `${dir.path}/load.yml`;
    await Deno.writeTextFile(
      config,
      `name: load report test\ntasks: { a: { name: task_a, queue: ${qa} } }\n`,
    );
    try {
      await using _worker = await spawnWorker([
        "--config",
        config,
        "--task",
        "a",
        "--concurrency",
        "4",
      ], {
        brokerUrl: broker.url,
      });
      const report = `${dir.path}/load.html`;
      const load = await runCli(
        [
          "load",
          "--config",
          config,
          "--task",
          "a",
          "--count",
          "300",
          "--rate",
          "150",
          "--report",
          report,
        ],
        { env: { DTS_BROKER_URL: broker.url } },
      );
      assert.equal(load.code, 0, load.stderr);
      const html = await Deno.readTextFile(report);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, "self-contained");
      await using browser = await launchBrowser();
      const page = browser.pages()[0] ?? await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      // Offline: the page needs nothing but itself.
      await browser.route(
        "**/*",
        (route) => route.request().url().startsWith("file:") ? route.continue() : route.abort(),
      );
      await page.goto(`file://${report}`);
      await page.waitForSelector("body[data-charts=ready]");
      for (const id of ["histogram", "throughput", "latency"]) {
        assert.equal(await page.locator(`#${id} canvas`).count(), 1, `${id} chart drawn`);
      }
      assert.deepEqual(errors, []);
      await page.screenshot({ path: `${ARTIFACTS}load_report.png`, fullPage: true });
    } finally {
      await deleteQueues(broker.url, [qa]);
    }
  },
});
