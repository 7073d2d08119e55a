import assert from "node:assert/strict";
import { NO_BROKER_MESSAGE } from "./broker.ts";

Deno.test("NO_BROKER_MESSAGE gives advice that works here: rabbitmq-server or DTS_TEST_BROKER_URL", () => {
  assert.match(NO_BROKER_MESSAGE, /`rabbitmq-server -detached`/);
  assert.match(NO_BROKER_MESSAGE, /DTS_TEST_BROKER_URL=amqp:\/\//);
  // There is no compose file (yet): advice to use one would fail.
  assert.doesNotMatch(NO_BROKER_MESSAGE, /compose/i);
});
