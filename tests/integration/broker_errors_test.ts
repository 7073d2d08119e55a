/**
 * Broker connection errors as a user sees them: one actionable line naming
 * what is wrong (vhost, login, not an AMQP server), exit 3, no password.
 */
import assert from "node:assert/strict";
import { testBroker } from "../helpers/broker.ts";
import { runCli } from "../helpers/run_cli.ts";

/** `dts status` against `url`: its exit code and the `dts:` lines of stderr. */
async function statusAgainst(
  url: string,
): Promise<{ code: number; lines: string[]; stderr: string }> {
  const run = await runCli(["status"], { env: { DTS_BROKER_URL: url } });
  const lines = run.stderr.split("\n").filter((line) => line.startsWith("dts:"));
  return { code: run.code, lines, stderr: run.stderr };
}

Deno.test("a vhost that does not exist is named as such, exit 3", async () => {
  await using broker = await testBroker();
  const url = new URL(broker.url);
  const vhost = `no_such_vhost_${crypto.randomUUID().slice(0, 8)}`;
  url.pathname = `/${vhost}`;
  const run = await statusAgainst(url.href);
  assert.equal(run.code, 3, run.stderr);
  const shown = url.href.replace(/:[^:@/]*@/, ":***@");
  assert.deepEqual(run.lines, [
    `dts: Cannot connect to broker "${shown}": vhost "${vhost}" does not exist or user "${
      decodeURIComponent(url.username)
    }" may not use it (access refused)`,
  ]);
});

Deno.test("a wrong password says the login was refused, exit 3, password hidden", async () => {
  await using broker = await testBroker();
  const url = new URL(broker.url);
  url.password = `wrong-${crypto.randomUUID().slice(0, 8)}`;
  const run = await statusAgainst(url.href);
  assert.equal(run.code, 3, run.stderr);
  assert.equal(run.lines.length, 1, run.stderr);
  assert.match(
    run.lines[0],
    new RegExp(
      `^dts: Cannot connect to broker "amqp://[^"]+:\\*\\*\\*@[^"]+": user "${
        decodeURIComponent(url.username)
      }" was refused: wrong user name or password`,
    ),
  );
  assert.doesNotMatch(run.stderr, new RegExp(url.password));
});

Deno.test("a port whose server is not AMQP says so, exit 3", async () => {
  // An HTTP-ish server: it answers the AMQP greeting with text and hangs up.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")).catch(() => 0);
      conn.close();
    }
  })().catch(() => {});
  try {
    const port = listener.addr.port;
    const run = await statusAgainst(`amqp://guest:guest@127.0.0.1:${port}/`);
    assert.equal(run.code, 3, run.stderr);
    assert.deepEqual(run.lines, [
      `dts: Cannot connect to broker "amqp://guest:***@127.0.0.1:${port}/": the server at 127.0.0.1:${port} does not speak AMQP 0-9-1 (is this the broker's AMQP port, usually 5672?)`,
    ]);
  } finally {
    listener.close();
    await serving;
  }
});
