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
  assert.equal(redactUrl("amqp://host/vhost@x"), "amqp://host/vhost@x");
  assert.equal(redactUrl("amqp://host/v:h@x"), "amqp://host/v:h@x");
});

/** Passwords a URL parser accepts or trips over; each must vanish whole. */
const HOSTILE: readonly { name: string; password: string }[] = [
  { name: "a space", password: "pa ss word" },
  { name: "a raw @", password: "p@ss@word" },
  { name: "colons", password: "a:b:c" },
  { name: "a slash", password: "a/b" },
  { name: "a hash", password: "12#x" },
  { name: "a question mark", password: "a?b=c" },
  { name: "a %40 escape", password: "p%40ss" },
  { name: "unicode", password: "пароль🔑" },
  { name: "a tab", password: "a\tb" },
  { name: "everything", password: " @:/#?%40 x@y " },
];

for (const { name, password } of HOSTILE) {
  Deno.test(`redactUrl() hides a password with ${name}`, () => {
    const raw = `amqp://guest:${password}@rabbit.example:5672/vh`;
    const shown = redactUrl(raw);
    assert.equal(shown, "amqp://guest:***@rabbit.example:5672/vh");
    for (const part of password.split(/[\s@:/#?]+/).filter((p) => p.length > 1)) {
      assert.ok(!shown.includes(part), `${JSON.stringify(part)} in ${shown}`);
    }
  });

  Deno.test(`redactText() hides a password with ${name} inside a message`, () => {
    const raw = `Cannot connect to "amqp://guest:${password}@rabbit.example:5672/": refused`;
    assert.equal(
      redactText(raw),
      `Cannot connect to "amqp://guest:***@rabbit.example:5672/": refused`,
    );
  });
}

Deno.test("redactUrl() agrees with the WHATWG parser where it parses the URL", () => {
  for (const password of ["pa ss", "p@ss@word", "a:b", "p%40ss", "пароль", ""]) {
    const raw = `amqp://guest:${password}@rabbit.example:5672/vh`;
    const parsed = new URL(raw);
    const shown = new URL(redactUrl(raw));
    assert.deepEqual(
      [shown.username, shown.password, shown.host, shown.pathname],
      [parsed.username, "***", parsed.host, parsed.pathname],
      password,
    );
  }
});

Deno.test("redactUrl() hides an empty password and a password without a user", () => {
  assert.equal(redactUrl("amqp://guest:@host/"), "amqp://guest:***@host/");
  assert.equal(redactUrl("amqp://:secret@host/"), "amqp://:***@host/");
  assert.equal(redactUrl("AMQPS://Guest:Secret@Host/"), "AMQPS://Guest:***@Host/");
});

Deno.test("redactUrl() redacts every URL of a comma- or semicolon-separated list", () => {
  assert.equal(
    redactUrl("amqp://a:p 1@h1:5672/,amqp://b:p@2@h2/; amqps://c:x,y@h3/"),
    "amqp://a:***@h1:5672/,amqp://b:***@h2/; amqps://c:***@h3/",
  );
});

Deno.test("redactText() replaces every URL password inside text", () => {
  const text = "from amqp://a:one@h1/ to amqps://b:two@h2:5671/ failed";
  const out = redactText(text);
  assert.equal(out, "from amqp://a:***@h1/ to amqps://b:***@h2:5671/ failed");
  assert.ok(!out.includes("one@") && !out.includes("two@"));
});

Deno.test("redactText() looks for a URL's password on its own line only", () => {
  assert.equal(
    redactText("broker amqp://u:a b@h/ down\nmail bob@example.com: ok"),
    "broker amqp://u:***@h/ down\nmail bob@example.com: ok",
  );
});

Deno.test("redactText() is idempotent", () => {
  const once = redactText("amqp://u:p@ss@h/ and amqp://v:***@k/");
  assert.equal(once, "amqp://u:***@h/ and amqp://v:***@k/");
  assert.equal(redactText(once), once);
});

Deno.test("redactText() does not touch text without credentials", () => {
  const text = "Cannot connect to localhost:5672: ECONNREFUSED at 10:00:00";
  assert.equal(redactText(text), text);
  const url = "see amqp://host:5672/vh\nmail bob@example.com";
  assert.equal(redactText(url), url);
});

Deno.test("redactText() errs on the side of hiding: a later @ on the line ends the userinfo", () => {
  // "5672/vh and mail bob" could be a password with a space and a slash.
  assert.equal(
    redactText("see amqp://host:5672/vh and mail bob@example.com"),
    "see amqp://host:***@example.com",
  );
});
