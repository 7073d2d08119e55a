/**
 * OpenTelemetry traces end to end: `dts dispatch` and `dts worker` as real
 * processes with Deno's built-in export (`OTEL_DENO=true`) pointed at a
 * receiver in this test, which reads the spans they export.
 */
import assert from "node:assert/strict";
import { deleteQueues, testBroker, testNamespace } from "../helpers/broker.ts";
import { fixtureBody, fixtureProps, loadFixture } from "../helpers/celery_fixtures.ts";
import { type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from "../helpers/otlp_receiver.ts";
import { runCli } from "../helpers/run_cli.ts";
import { FIXTURE_PLUGINS, spawnWorker, tempConfig, waitUntil } from "../helpers/test_kit.ts";
import { AmqpTransport } from "../../src/transport/amqp/amqp_transport.ts";

function only(spans: readonly ReceivedSpan[], what: string): ReceivedSpan {
  assert.equal(spans.length, 1, `expected one ${what}, got ${JSON.stringify(spans, null, 1)}`);
  return spans[0];
}

Deno.test("dts dispatch and dts worker export one trace per task: the send is the parent of every attempt, each retry links to the attempt before", async () => {
  await using broker = await testBroker();
  await using receiver = startOtlpReceiver();
  const ns = testNamespace();
  const queueOk = ns.queue("queue_ok");
  const queueFlaky = ns.queue("queue_flaky");
  await using config = await tempConfig(
    [
      "tasks:",
      `  ok: { name: task_ok, queue: ${queueOk} }`,
      `  flaky: { name: task_flaky, queue: ${queueFlaky} }`,
      "dispatch:",
      "  timeout: 30s",
      "  jobs: [ { task: ok }, { task: flaky } ]",
      "",
    ].join("\n"),
  );
  try {
    await using _worker = await spawnWorker(
      [
        "--task",
        "ok",
        "--task",
        "flaky",
        "--config",
        config.path,
        "--plugins",
        FIXTURE_PLUGINS.good,
      ],
      { brokerUrl: broker.url, env: receiver.env("dts-worker") },
    );
    const run = await runCli(
      ["dispatch", "--config", config.path, "--output", "json", "--no-save"],
      {
        env: { DTS_BROKER_URL: broker.url, ...receiver.env("dts-dispatch") },
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const ours = (span: ReceivedSpan) =>
      span.scope === "dts" &&
      [queueOk, queueFlaky].includes(String(span.attributes["messaging.destination.name"]));
    await waitUntil("2 send spans and 4 attempt spans", () => {
      const spans = receiver.spans.filter(ours);
      return spans.filter((s) => s.kind === SPAN_KIND.producer).length >= 2 &&
        spans.filter((s) => s.kind === SPAN_KIND.consumer).length >= 4;
    });
    assert.deepEqual(receiver.refused, []);
    const spans = receiver.spans.filter(ours);
    const sends = spans.filter((s) => s.kind === SPAN_KIND.producer);
    const attempts = spans.filter((s) => s.kind === SPAN_KIND.consumer);

    // task_ok: one send in dispatch, one attempt in the worker, child of it.
    const sendOk = only(
      sends.filter((s) => s.attributes["celery.task_name"] === "task_ok"),
      "send of task_ok",
    );
    assert.equal(sendOk.service, "dts-dispatch");
    assert.equal(sendOk.name, `send ${queueOk}`);
    assert.equal(sendOk.parentSpanId, "");
    assert.equal(sendOk.attributes["messaging.system"], "rabbitmq");
    assert.equal(sendOk.attributes["messaging.operation.type"], "send");
    const taskId = sendOk.attributes["messaging.message.id"];
    assert.match(String(taskId), /^[0-9a-f-]{36}$/);
    const runOk = only(
      attempts.filter((s) => s.attributes["celery.task_name"] === "task_ok"),
      "attempt of task_ok",
    );
    assert.equal(runOk.service, "dts-worker");
    assert.equal(runOk.name, `process ${queueOk}`);
    assert.equal(runOk.traceId, sendOk.traceId);
    assert.equal(runOk.parentSpanId, sendOk.spanId);
    assert.deepEqual(runOk.links, []);
    assert.equal(runOk.attributes["messaging.message.id"], taskId);
    assert.equal(runOk.attributes["messaging.destination.name"], queueOk);
    assert.equal(runOk.attributes["messaging.operation.type"], "process");
    assert.equal(runOk.attributes["dts.retries"], 0);
    assert.equal(runOk.attributes["dts.outcome"], "SUCCESS");
    assert.match(String(runOk.attributes["dts.worker"]), /@/);
    assert.notEqual(runOk.statusCode, 2);

    // task_flaky fails twice, then succeeds: three sibling attempts under its send, chained by links.
    const sendFlaky = only(
      sends.filter((s) => s.attributes["celery.task_name"] === "task_flaky"),
      "send of task_flaky",
    );
    assert.notEqual(sendFlaky.traceId, sendOk.traceId);
    const tries = attempts.filter((s) => s.attributes["celery.task_name"] === "task_flaky")
      .sort((a, b) => Number(a.attributes["dts.retries"]) - Number(b.attributes["dts.retries"]));
    assert.deepEqual(tries.map((s) => s.attributes["dts.retries"]), [0, 1, 2]);
    assert.deepEqual(tries.map((s) => s.attributes["dts.outcome"]), ["RETRY", "RETRY", "SUCCESS"]);
    for (const attempt of tries) {
      assert.equal(attempt.traceId, sendFlaky.traceId);
      assert.equal(attempt.parentSpanId, sendFlaky.spanId, "every attempt is a child of the send");
    }
    assert.deepEqual(tries[0].links, []);
    assert.deepEqual(tries[1].links.map((l) => [l.traceId, l.spanId]), [[
      tries[0].traceId,
      tries[0].spanId,
    ]]);
    assert.deepEqual(tries[2].links.map((l) => [l.traceId, l.spanId]), [[
      tries[1].traceId,
      tries[1].spanId,
    ]]);
    assert.deepEqual(tries.map((s) => s.statusCode === 2), [true, true, false]);
    const exception = tries[0].events.find((e) => e.name === "exception");
    assert.match(String(exception?.attributes["exception.message"]), /flaky failure on attempt 1/);
  } finally {
    await deleteQueues(broker.url, [queueOk, queueFlaky]);
  }
});

Deno.test("dts worker continues the trace of a Celery message carrying traceparent, top-level or nested in its headers; its link is a child of its attempt", async () => {
  await using broker = await testBroker();
  await using receiver = startOtlpReceiver();
  const ns = testNamespace();
  const queue = ns.queue("queue_ok");
  await using config = await tempConfig(
    ["tasks:", `  ok: { name: task_ok, queue: ${queue} }`, ""].join("\n"),
  );
  const transport = await AmqpTransport.connect(broker.url);
  try {
    await using _worker = await spawnWorker(
      ["--task", "ok", "--config", config.path, "--plugins", FIXTURE_PLUGINS.good],
      { brokerUrl: broker.url, env: receiver.env("dts-worker") },
    );
    // A real Celery 5.2 client's message, with the headers its OTel instrumentation injects.
    const fixture = loadFixture("task_a.send_task");
    const celeryMessage = (id: string, trace: Record<string, unknown>, linkId?: string) => {
      const props = fixtureProps(fixture);
      delete props.replyTo;
      props.correlationId = id;
      props.headers = { ...props.headers, task: "task_ok", id, root_id: id, ...trace };
      if (linkId === undefined) return { body: fixtureBody(fixture), props };
      // The same message with a link (Celery's `link=`): a second task_ok once it succeeds.
      const [args, kwargs, embed] = JSON.parse(new TextDecoder().decode(fixtureBody(fixture)));
      const link = {
        task: "task_ok",
        args: [],
        kwargs: {},
        options: { task_id: linkId, queue },
        subtask_type: null,
        immutable: false,
      };
      const body = new TextEncoder().encode(
        JSON.stringify([args, kwargs, { ...embed, callbacks: [link] }]),
      );
      return { body, props };
    };
    const topLevel = { id: crypto.randomUUID(), traceId: hex(32), spanId: hex(16) };
    const nested = { id: crypto.randomUUID(), traceId: hex(32), spanId: hex(16) };
    const linkId = crypto.randomUUID();
    const traceparent = (t: { traceId: string; spanId: string }) =>
      `00-${t.traceId}-${t.spanId}-01`;
    for (
      const { body, props } of [
        celeryMessage(
          topLevel.id,
          { traceparent: traceparent(topLevel), tracestate: "celery=1" },
          linkId,
        ),
        celeryMessage(nested.id, { headers: { traceparent: traceparent(nested) } }),
      ]
    ) {
      await transport.publish(queue, body, props);
    }
    const attemptOf = (id: string) =>
      receiver.spans.filter((s) =>
        s.kind === SPAN_KIND.consumer && s.attributes["messaging.message.id"] === id
      );
    await waitUntil(
      "both attempts' spans",
      () =>
        attemptOf(topLevel.id).length > 0 && attemptOf(nested.id).length > 0 &&
        attemptOf(linkId).length > 0,
    );
    for (const sent of [topLevel, nested]) {
      const attempt = only(attemptOf(sent.id), `attempt of ${sent.id}`);
      assert.equal(attempt.traceId, sent.traceId);
      assert.equal(attempt.parentSpanId, sent.spanId);
      assert.equal(attempt.attributes["dts.outcome"], "SUCCESS");
    }
    // The link the first attempt sent on runs in the same trace, as its child.
    const first = only(attemptOf(topLevel.id), "attempt of the linked task's parent");
    const linked = only(attemptOf(linkId), "attempt of the link");
    assert.equal(linked.traceId, topLevel.traceId);
    assert.equal(linked.parentSpanId, first.spanId);
  } finally {
    await transport.close();
    await deleteQueues(broker.url, [queue]);
  }
});

function hex(digits: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(digits / 2));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
