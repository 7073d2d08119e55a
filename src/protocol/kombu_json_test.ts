import assert from "node:assert/strict";
import { parseKombuJson, stringifyKombuJson } from "./kombu_json.ts";
import { fixtureBody, loadFixture } from "../../tests/helpers/celery_fixtures.ts";

Deno.test("parseKombuJson() reads a captured Celery body as plain JSON", () => {
  const fixture = loadFixture("task_a.send_task");
  const text = new TextDecoder().decode(fixtureBody(fixture));
  assert.deepEqual(parseKombuJson(text), fixture.body);
});

Deno.test("parseKombuJson() decodes datetime, date and time markers", () => {
  const value = parseKombuJson(JSON.stringify({
    aware: { __type__: "datetime", __value__: "2026-11-28T10:54:14.578373+00:00" },
    offset: { __type__: "datetime", __value__: "2026-11-28T11:54:14+01:00" },
    naive: { __type__: "datetime", __value__: "2026-11-28T10:54:14" },
    day: { __type__: "date", __value__: "2026-11-28" },
    clock: { __type__: "time", __value__: "10:54:14.578373" },
  })) as Record<string, unknown>;
  assert.ok(value.aware instanceof Date);
  assert.equal((value.aware as Date).toISOString(), "2026-11-28T10:54:14.578Z");
  assert.equal((value.offset as Date).toISOString(), "2026-11-28T10:54:14.000Z");
  assert.equal((value.naive as Date).toISOString(), "2026-11-28T10:54:14.000Z", "naive is UTC");
  assert.equal((value.day as Date).toISOString(), "2026-11-28T00:00:00.000Z");
  assert.equal(value.clock, "10:54:14.578373");
});

Deno.test("parseKombuJson() decodes uuid, decimal, bytes and base64 markers", () => {
  const value = parseKombuJson(
    `[{"__type__": "uuid", "__value__": {"hex": "A44B8EBBDC624FF2BD7BB542B8D2B4BC", "version": 4}},
      {"__type__": "uuid", "__value__": "a44b8ebb-dc62-4ff2-bd7b-b542b8d2b4bc"},
      {"__type__": "decimal", "__value__": "0.10000000000000000001"},
      {"__type__": "bytes", "__value__": "h\u00e9"},
      {"__type__": "base64", "__value__": "/wA="}]`,
  );
  assert.deepEqual(value, [
    "a44b8ebb-dc62-4ff2-bd7b-b542b8d2b4bc",
    "a44b8ebb-dc62-4ff2-bd7b-b542b8d2b4bc",
    "0.10000000000000000001",
    new Uint8Array([0x68, 0xc3, 0xa9]),
    new Uint8Array([0xff, 0x00]),
  ]);
});

Deno.test("parseKombuJson() keeps unknown or malformed markers and look-alikes as they are", () => {
  const text = JSON.stringify([
    { __type__: "frozenset", __value__: [1] },
    { __type__: "datetime", __value__: "not a date" },
    { __type__: "datetime", __value__: "2026-11-28", extra: 1 },
    { text: '"__type__"' },
  ]);
  assert.deepEqual(parseKombuJson(text), JSON.parse(text));
});

Deno.test("parseKombuJson() accepts Python's bare NaN and Infinity", () => {
  const value = parseKombuJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity"}');
  assert.deepEqual(value, { a: NaN, b: [Infinity, -Infinity], c: "NaN Infinity" });
});

Deno.test("parseKombuJson() throws SyntaxError on text that is not JSON", () => {
  assert.throws(() => parseKombuJson("[1,"), SyntaxError);
  assert.throws(() => parseKombuJson("NaN,"), SyntaxError);
});

Deno.test("stringifyKombuJson() writes plain values as JSON.stringify does", () => {
  const value = [[1, "a"], { x: 2, y: null }, { callbacks: null }];
  assert.equal(stringifyKombuJson(value), JSON.stringify(value));
});

Deno.test("stringifyKombuJson() writes a Date as kombu 5.2 does: an ISO string in UTC", () => {
  const text = stringifyKombuJson({ at: new Date("2026-11-28T10:54:14.578Z") });
  assert.equal(text, '{"at":"2026-11-28T10:54:14.578Z"}');
});

Deno.test("stringifyKombuJson() writes bytes as kombu 5.3 does and reads them back", () => {
  const utf8 = new TextEncoder().encode("héllo");
  const binary = new Uint8Array([0xff, 0x00, 0x80]);
  const text = stringifyKombuJson({ nested: [utf8], binary });
  assert.deepEqual(JSON.parse(text), {
    nested: [{ __type__: "bytes", __value__: "héllo" }],
    binary: { __type__: "base64", __value__: "/wCA" },
  });
  assert.deepEqual(parseKombuJson(text), { nested: [utf8], binary });
});

Deno.test("stringifyKombuJson() throws TypeError for a value JSON cannot hold", () => {
  assert.throws(() => stringifyKombuJson(undefined), TypeError);
  assert.throws(() => stringifyKombuJson({ n: 1n }), TypeError);
});
