import assert from "node:assert/strict";
import {
  checkAuth,
  isLoopbackHost,
  isSameOriginWrite,
  sameSecret,
  TOKEN_COOKIE,
} from "./ui_auth.ts";

const TOKEN = "s3cret-token-value";
const withToken = { token: TOKEN, loopback: false };

Deno.test("checkAuth() allows a loopback dashboard without a token, for a loopback Host only", async () => {
  const open = { token: null, loopback: true };
  const ok = await checkAuth(new Request("http://127.0.0.1:8090/"), open);
  assert.equal(ok.type, "allow");
  const rebound = await checkAuth(
    new Request("http://127.0.0.1:8090/", { headers: { host: "evil.example:8090" } }),
    open,
  );
  assert.equal(rebound.type === "respond" && rebound.response.status, 403);
});

Deno.test("checkAuth() with a token refuses requests without it or with a wrong one", async () => {
  const tries: Record<string, string>[] = [
    {},
    { authorization: "Bearer nope" },
    { cookie: `${TOKEN_COOKIE}=nope` },
  ];
  for (const headers of tries) {
    const d = await checkAuth(new Request("http://h/api/snapshot", { headers }), withToken);
    assert.equal(d.type === "respond" && d.response.status, 401, JSON.stringify(headers));
  }
});

Deno.test("checkAuth() takes a Bearer header or the cookie", async () => {
  const bearer = new Request("http://h/", { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal((await checkAuth(bearer, withToken)).type, "allow");
  const cookie = new Request("http://h/", {
    headers: { cookie: `other=1; ${TOKEN_COOKIE}=${encodeURIComponent(TOKEN)}` },
  });
  assert.equal((await checkAuth(cookie, withToken)).type, "allow");
});

Deno.test("checkAuth() turns ?token= into an HttpOnly cookie and a redirect without it", async () => {
  const d = await checkAuth(new Request(`http://h/?token=${TOKEN}&x=1`), withToken);
  assert.equal(d.type, "respond");
  if (d.type !== "respond") return;
  assert.equal(d.response.status, 303);
  assert.equal(d.response.headers.get("location"), "/?x=1");
  const cookie = d.response.headers.get("set-cookie")!;
  assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const wrong = await checkAuth(new Request("http://h/?token=bad"), withToken);
  assert.equal(wrong.type === "respond" && wrong.response.status, 401);
});

Deno.test("sameSecret() compares whole values of any length", async () => {
  assert.equal(await sameSecret("abc", "abc"), true);
  assert.equal(await sameSecret("abc", "abd"), false);
  assert.equal(await sameSecret("abc", "abcd"), false);
  assert.equal(await sameSecret("", "a"), false);
});

Deno.test("isLoopbackHost() knows 127.x, ::1 and localhost", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ["0.0.0.0", "10.0.0.1", "::", "example.com"]) {
    assert.ok(!isLoopbackHost(host), host);
  }
});

Deno.test("isSameOriginWrite() wants JSON, and the server's own Origin when one is named", () => {
  const post = (headers: Record<string, string>) =>
    new Request("http://127.0.0.1:8090/api/dlq/replay", { method: "POST", headers });
  assert.ok(
    isSameOriginWrite(post({ "content-type": "application/json", host: "127.0.0.1:8090" })),
  );
  assert.ok(
    isSameOriginWrite(
      post({
        "content-type": "application/json",
        host: "127.0.0.1:8090",
        origin: "http://127.0.0.1:8090",
      }),
    ),
  );
  assert.ok(!isSameOriginWrite(post({ "content-type": "application/x-www-form-urlencoded" })));
  assert.ok(
    !isSameOriginWrite(
      post({ "content-type": "application/json", host: "127.0.0.1:8090", origin: "http://evil" }),
    ),
  );
});
