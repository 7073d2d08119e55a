/**
 * `dts ui` access from the command line: a non-loopback address without a
 * token is refused before anything is served, a short token too, and a
 * token given by DTS_UI_AUTH_TOKEN (out of `ps`) guards every request.
 */
import assert from "node:assert/strict";
import { testBroker } from "../helpers/broker.ts";
import { CliProcess, runCli } from "../helpers/run_cli.ts";
import { freePort, tempDir } from "../helpers/test_kit.ts";

Deno.test("dts ui refuses a non-loopback address without a token, and a short token (exit 2)", async () => {
  const open = await runCli(["ui", "--host", "0.0.0.0", "--broker", "memory://"]);
  assert.equal(open.code, 2, open.stderr);
  assert.match(open.stderr, /without --auth-token: anyone who reaches it could replay, purge/);
  const short = await runCli(["ui", "--host", "0.0.0.0", "--broker", "memory://"], {
    env: { DTS_UI_AUTH_TOKEN: "short" },
  });
  assert.equal(short.code, 2, short.stderr);
  assert.match(short.stderr, /must be 8 characters or more/);
});

Deno.test("dts ui with DTS_UI_AUTH_TOKEN answers 401 without the token and serves the page with it", async () => {
  await using broker = await testBroker();
  await using dir = await tempDir();
  const port = freePort();
  const token = "s3cret-token-for-the-test";
  await using ui = new CliProcess(
    ["ui", "--port", String(port), "--broker", broker.url, "--db", `${dir.path}/ui.sqlite`],
    { env: { DTS_UI_AUTH_TOKEN: token } },
  );
  await ui.waitFor(/dts ui: http:\/\/127\.0\.0\.1:\d+\/\?token=…/, 30_000);
  assert.doesNotMatch(ui.output, new RegExp(token), "the token is never printed");
  const base = `http://127.0.0.1:${port}/`;
  const refused = await fetch(base);
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  const wrong = await fetch(base, { headers: { authorization: "Bearer not-the-token" } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const page = await fetch(base, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<html/i);
  assert.ok(!html.includes(token), "no secret in the page");
  // Opened once with ?token=, the browser gets a cookie and a clean address.
  const once = await fetch(`${base}?token=${token}`, { redirect: "manual" });
  assert.equal(once.status, 303);
  assert.equal(once.headers.get("location"), "/");
  assert.match(once.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/);
  await once.body?.cancel();
});
