import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { listenHttp, type ListenSpec } from "./http_listen.ts";

const HOST = "127.0.0.1";

function spec(port: number, given: boolean): ListenSpec {
  return {
    hostname: HOST,
    port,
    given,
    what: "health checks",
    portOption: "--health-port",
    hostOption: "--health-host",
  };
}

function serveOn(hostname: string): (port: number) => Deno.HttpServer<Deno.NetAddr> {
  return (port) => Deno.serve({ hostname, port, onListen() {} }, () => new Response("ok"));
}

/** A port held by this test for as long as it runs. */
function busyPort(): Deno.TcpListener {
  return Deno.listen({ hostname: HOST, port: 0 });
}

Deno.test("listenHttp() moves a busy default port to the next free one and says so", async () => {
  using holder = busyPort();
  const busy = holder.addr.port;
  const moves: [number, number][] = [];
  const server = listenHttp(spec(busy, false), serveOn(HOST), (from, to) => moves.push([from, to]));
  try {
    assert.notEqual(server.addr.port, busy);
    assert.deepEqual(moves, [[busy, server.addr.port]]);
    const response = await fetch(`http://${HOST}:${server.addr.port}/`);
    assert.equal(await response.text(), "ok");
  } finally {
    await server.shutdown();
  }
});

Deno.test("listenHttp() asks the OS for a port once every fallback port is busy", async () => {
  const tried: number[] = [];
  const server = listenHttp(spec(40_000, false), (port) => {
    tried.push(port);
    if (port !== 0) throw new Deno.errors.AddrInUse("Address already in use (os error 98)");
    return serveOn(HOST)(0);
  });
  try {
    assert.equal(tried.length, 22);
    assert.deepEqual(tried.slice(0, 2), [40_000, 40_001]);
    assert.equal(tried.at(-1), 0);
    assert.ok(server.addr.port > 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("listenHttp() refuses a busy port the user chose in one line naming the option", () => {
  using holder = busyPort();
  const busy = holder.addr.port;
  assert.throws(
    () => listenHttp(spec(busy, true), serveOn(HOST)),
    (error: unknown) =>
      error instanceof UsageError && error.exitCode === 2 &&
      error.message ===
        `Cannot serve health checks on ${HOST}:${busy}: the port is in use; choose another with --health-port (0 turns it off)`,
  );
});

Deno.test("listenHttp() names the host option for an address this host does not have", () => {
  const bind = (): never => {
    throw new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)");
  };
  assert.throws(
    () => listenHttp({ ...spec(8080, false), hostname: "10.9.9.9" }, bind),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message ===
        "Cannot serve health checks on 10.9.9.9:8080: this host has no such address; check --health-host",
  );
});
