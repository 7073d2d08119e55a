import assert from "node:assert/strict";
import { brokerUrlsProblem, schemeOf, splitBrokerUrls } from "./broker_urls.ts";

Deno.test("splitBrokerUrls: one URL is a list of one", () => {
  assert.deepEqual(splitBrokerUrls("amqp://u:p@h:5672/"), ["amqp://u:p@h:5672/"]);
});

Deno.test("splitBrokerUrls: ; and , separate nodes, spaces around them ignored", () => {
  assert.deepEqual(splitBrokerUrls("amqp://a/; amqp://b/ ,amqps://c:5671/"), [
    "amqp://a/",
    "amqp://b/",
    "amqps://c:5671/",
  ]);
});

Deno.test("splitBrokerUrls: a password holding , or ; stays whole", () => {
  assert.deepEqual(splitBrokerUrls("amqp://u:p,a;ss@a/;amqp://u:x,y@b/"), [
    "amqp://u:p,a;ss@a/",
    "amqp://u:x,y@b/",
  ]);
});

Deno.test("brokerUrlsProblem: a list may only name RabbitMQ nodes", () => {
  assert.equal(brokerUrlsProblem("amqp://a/;amqps://b/"), null);
  assert.equal(brokerUrlsProblem("memory://"), null);
  assert.equal(brokerUrlsProblem("  "), "is empty");
  assert.match(String(brokerUrlsProblem("amqp://a/;memory://")), /entry 2 is not amqp:/);
});

Deno.test("schemeOf: lower case, or undefined without ://", () => {
  assert.equal(schemeOf("AMQPS://h/"), "amqps");
  assert.equal(schemeOf("amqp:h"), undefined);
});
