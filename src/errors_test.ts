import assert from "node:assert/strict";
import { describeThrown, toError } from "./errors.ts";

Deno.test("describeThrown() describes Errors, strings and plain values", () => {
  const error = new TypeError("bad input");
  assert.deepEqual(describeThrown(error), {
    error: { type: "TypeError", message: "bad input", stack: error.stack },
    retryable: true,
  });
  assert.deepEqual(describeThrown("plain"), {
    error: { type: "Error", message: "plain" },
    retryable: true,
  });
  assert.deepEqual(describeThrown(42).error, { type: "Error", message: "42" });
  assert.deepEqual(describeThrown(null).error, { type: "Error", message: "null" });
  assert.deepEqual(describeThrown({ code: 7 }).error, { type: "Error", message: '{"code":7}' });
  assert.equal(
    describeThrown(Object.assign(new Error("x"), { retryable: false })).retryable,
    false,
  );
});

Deno.test("describeThrown() survives hostile throws: proxies, throwing getters, cycles", () => {
  const trap = new Proxy({}, {
    get() {
      throw new Error("get trap");
    },
    getPrototypeOf() {
      throw new Error("proto trap");
    },
  });
  assert.deepEqual(describeThrown(trap), {
    error: { type: "Error", message: "(a value that cannot be shown)" },
    retryable: true,
  });
  const getters = Object.defineProperties(new Error("hidden"), {
    message: {
      get() {
        throw new Error("no message");
      },
    },
    name: {
      get() {
        throw new Error("no name");
      },
    },
  });
  assert.deepEqual(describeThrown(getters).error.type, "Error");
  assert.equal(describeThrown(getters).error.message, "");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(describeThrown(cyclic).error.message, "[object Object]");
  const revocable = Proxy.revocable({}, {});
  revocable.revoke();
  assert.equal(describeThrown(revocable.proxy).error.type, "Error");
  assert.ok(toError(trap) instanceof Error);
});

Deno.test("describeThrown() clips huge messages", () => {
  const { error } = describeThrown(new Error("x".repeat(100_000)));
  assert.ok(error.message.length < 5000);
  assert.match(error.message, /more characters\)$/);
});
