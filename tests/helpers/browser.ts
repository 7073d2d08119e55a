/**
 * A real browser for the dashboard tests: Debian's chromium driven by
 * Playwright (`playwright-core`, which downloads no browser of its own),
 * headless, with a fresh profile that is removed on dispose. No chromium is
 * a failure with the way to get one, never a skip.
 * @module
 */
import { type BrowserContext, chromium } from "playwright-core";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Where the tests leave screenshots for a person to look at (git-ignored). */
export const ARTIFACTS = new URL("../../.artifacts/ui/", import.meta.url).pathname;

/** A browser with its own profile; closed and removed on dispose. */
export async function launchBrowser(
  options: { colorScheme?: "light" | "dark" } = {},
): Promise<BrowserContext & AsyncDisposable> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `No chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (scripts/test does when it can)`,
    );
  }
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const profile = await Deno.makeTempDir({ prefix: "dts_chromium_" });
  // launchPersistentContext takes the profile folder itself (Playwright refuses --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    colorScheme: options.colorScheme ?? "light",
    viewport: { width: 1400, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return Object.assign(context, {
    [Symbol.asyncDispose]: async () => {
      await context.close().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  });
}
