import assert from "node:assert/strict";
import { redactText, redactUrl } from "./redact.ts";

Deno.test("redactUrl() replaces the password with ***", () => {
  assert.equal(redactUrl("amqp://guest:guest@localhost:5672/"), "amqp://guest:***@localhost:5672/");
  assert.equal(
    redactUrl("amqps://user:p%40ss@rabbit.example:5671/vh"),
    "amqps://user:***@rabbit.example:5671/vh",
  );
});

Deno.test("redactUrl() leaves URLs without a password alone", () => {
  assert.equal(redactUrl("amqp://localhost:5672/"), "amqp://localhost:5672/");
  assert.equal(redactUrl("amqp://guest@localhost/"), "amqp://guest@localhost/");
  assert.equal(redactUrl("memory://"), "memory://");
});

Deno.test("redactText() replaces every URL password inside text", () => {
  const text = "from amqp://a:one@h1/ to amqps://b:two@h2:5671/ failed";
  const out = redactText(text);
  assert.equal(out, "from amqp://a:***@h1/ to amqps://b:***@h2:5671/ failed");
  assert.ok(!out.includes("one@") && !out.includes("two@"));
});

Deno.test("redactText() does not touch text without credentials", () => {
  const text = "Cannot connect to localhost:5672: ECONNREFUSED at 10:00:00";
  assert.equal(redactText(text), text);
});
