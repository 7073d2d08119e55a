import assert from "node:assert/strict";
import { describeConnectError } from "./amqp_connect_errors.ts";

/** An error shaped like amqplib's / Node's: a message and maybe a `code`. */
function driverError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

const URL_X = "amqp://guest:guest@127.0.0.1:5672/x";

Deno.test("describeConnectError() says a vhost does not exist or is refused", () => {
  const error = driverError("Expected ConnectionOpenOk; got <ConnectionClose channel:0>");
  assert.equal(
    describeConnectError(error, URL_X),
    'vhost "x" does not exist or user "guest" may not use it (access refused)',
  );
  assert.match(describeConnectError(error, "amqp://u:p@h:5672/a%2Fb"), /^vhost "a\/b" /);
  assert.match(describeConnectError(error, "amqp://u:p@h:5672"), /^vhost "\/" /);
});

Deno.test("describeConnectError() says a login was refused, and why guest may be", () => {
  const error = driverError(
    'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."',
  );
  assert.equal(
    describeConnectError(error, "amqp://app:wrong@127.0.0.1:5672/"),
    'user "app" was refused: wrong user name or password',
  );
  assert.equal(
    describeConnectError(error, "amqp://guest:guest@rabbit.example:5672/"),
    'user "guest" was refused: wrong user name or password; RabbitMQ lets "guest" in only from localhost',
  );
});

Deno.test("describeConnectError() says a server does not speak AMQP", () => {
  const frame = driverError("Frame size 1345270062 exceeds maxFrameSize 67108864");
  assert.equal(
    describeConnectError(frame, "amqp://guest:guest@127.0.0.1:5433/"),
    "the server at 127.0.0.1:5433 does not speak AMQP 0-9-1 (is this the broker's AMQP port, usually 5672?)",
  );
  const closed = driverError("Socket closed abruptly during opening handshake");
  assert.match(
    describeConnectError(closed, "amqp://h:1234/"),
    /^the server at h:1234 closed the connection during the AMQP handshake/,
  );
});

Deno.test("describeConnectError() names refused, unresolvable and silent hosts", () => {
  assert.equal(
    describeConnectError(
      driverError("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"),
      "amqp://127.0.0.1:1/",
    ),
    "nothing listens on 127.0.0.1:1 (connection refused)",
  );
  assert.equal(
    describeConnectError(
      driverError("getaddrinfo ENOTFOUND nope.invalid", "ENOTFOUND"),
      "amqp://nope.invalid/",
    ),
    'cannot resolve host "nope.invalid"',
  );
  assert.equal(
    describeConnectError(driverError("no connection after 300 ms"), "amqp://h/"),
    "no AMQP answer from h:5672 within 300 ms",
  );
});

Deno.test("describeConnectError() says a plain port was given to amqps://", () => {
  const error = driverError(
    "received corrupt message of type InvalidContentType (SSL routines:ssl3_get_record:wrong version number)",
    "ERR_SSL_WRONG_VERSION_NUMBER",
  );
  assert.equal(
    describeConnectError(error, "amqps://u:p@h:5672/"),
    "the server at h:5672 does not speak TLS (use amqp://, or the broker's TLS port, usually 5671)",
  );
});

Deno.test("describeConnectError() keeps any other message's first line, password masked", () => {
  const error = driverError("boom at amqp://u:s3cret@h/\nsecond line");
  assert.equal(describeConnectError(error, "amqp://u:s3cret@h/"), "boom at amqp://u:***@h/");
});
