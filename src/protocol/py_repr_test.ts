import assert from "node:assert/strict";
import { pyRepr } from "./py_repr.ts";

Deno.test("pyRepr() writes args and kwargs as Celery's argsrepr/kwargsrepr", () => {
  assert.equal(pyRepr([1]), "[1]");
  assert.equal(pyRepr({ x: 2 }), "{'x': 2}");
  assert.equal(pyRepr([]), "[]");
  assert.equal(pyRepr({}), "{}");
});

Deno.test("pyRepr() writes Python's None, True, False, floats and nested values", () => {
  assert.equal(
    pyRepr([null, true, false, 1.5, -0.25, NaN, -Infinity, 1e21, { a: [{}] }]),
    "[None, True, False, 1.5, -0.25, nan, -inf, 1000000000000000000000, {'a': [{}]}]",
  );
});

Deno.test("pyRepr() quotes and escapes strings as Python does", () => {
  assert.equal(pyRepr("plain"), "'plain'");
  assert.equal(pyRepr("it's"), `"it's"`);
  assert.equal(pyRepr(`it's "x"`), `'it\\'s "x"'`);
  assert.equal(pyRepr("a\nb\\c\u0001"), "'a\\nb\\\\c\\x01'");
  assert.equal(pyRepr("héllo"), "'héllo'");
});

Deno.test("pyRepr() writes bytes as a Python bytes literal", () => {
  assert.equal(pyRepr(new Uint8Array([0x61, 0x27, 0xff])), "b'a\\'\\xff'");
});

Deno.test("pyRepr() cuts a long repr at maxLength and adds ...", () => {
  const text = pyRepr(Array.from({ length: 1000 }, (_, i) => i), 20);
  assert.equal(text, "[0, 1, 2, 3, 4, 5, 6...");
  assert.equal(pyRepr("x".repeat(5000)).length, 1024 + 3);
});
