/**
 * `dts ui` for the dashboard tests: the server as a process on a given
 * broker, and what the open page says of a task.
 * @module
 */
import type { BrowserContext, Page } from "playwright-core";
import { CliProcess } from "./run_cli.ts";

/** Where and on what `dts ui` runs. */
export interface UiProcessOptions {
  config: string;
  db: string;
  port: number;
  broker: string;
  /** More arguments (`--plugins …`). */
  extra?: readonly string[];
}

/** Start `dts ui`; resolves once it serves. */
export async function startUi(options: UiProcessOptions): Promise<CliProcess> {
  const ui = new CliProcess(
    [
      "ui",
      "--config",
      options.config,
      "--db",
      options.db,
      "--port",
      String(options.port),
      ...(options.extra ?? []),
    ],
    { env: { DTS_BROKER_URL: options.broker } },
  );
  await ui.waitFor(/dts ui: http:\/\/127\.0\.0\.1:\d+\//, 30_000);
  return ui;
}

/** The state a task's row shows on the page, or null when it has no row (yet). */
export async function taskState(page: Page, id: string): Promise<string | null> {
  return await page.locator(`tr[data-task="${id}"]`).getAttribute("data-state", { timeout: 200 })
    .catch(() => null);
}

/** Open the dashboard on `port` in `browser`, once it is live; the page's script errors are collected. */
export async function openDashboard(
  browser: BrowserContext,
  port: number,
): Promise<{ page: Page; errors: string[] }> {
  const page = browser.pages()[0] ?? await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector("#live.online");
  return { page, errors };
}
