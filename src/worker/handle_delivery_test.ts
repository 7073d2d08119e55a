/**
 * `handleDelivery` on its own, with a scripted delivery: the order of
 * "outcome recorded" and "message settled", and that every path ends with
 * the message settled or handed back, even when settling fails.
 */
import { NO_TRACING } from "../tracing/task_tracer.ts";
import assert from "node:assert/strict";
import { inlineRunner } from "../attempt/inline_runner.ts";
import { ManualClock } from "../../tests/helpers/manual_clock.ts";
import { BrokerError } from "../errors.ts";
import { silentLogger } from "../log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../plugin/task_plugin.ts";
import { decodeResultMessage } from "../protocol/celery_result_message.ts";
import { createTaskMessage, encodeTaskMessage } from "../protocol/celery_task_message.ts";
import { REDELIVERIES_HEADER } from "../protocol/dts_headers.ts";
import { exponentialBackoff } from "../retry/retry_policy.ts";
import { MemoryBroker } from "../transport/memory/memory_broker.ts";
import { MemoryTransport } from "../transport/memory/memory_transport.ts";
import type { Delivery, MessageProps, PublishOptions } from "../transport/transport.ts";
import type { DeliveryDeps } from "./delivery_deps.ts";
import { handleDelivery } from "./handle_delivery.ts";
import { HeldMessages } from "./held_messages.ts";
import { InFlightTasks } from "./in_flight.ts";
import { WorkerMetrics } from "./metrics.ts";

const Q = "queue_h";
const REPLY = "reply_h";

type Settle = "ack" | "deadLetter" | "requeue" | "release";

/** A delivery that writes what happens to it into `events`, and fails the settles it is told to. */
class ScriptedDelivery implements Delivery {
  readonly queue = Q;
  settled = false;
  deadLetters: { reason: string; headers?: Record<string, unknown> }[] = [];
  releasedWith: Record<string, unknown>[] = [];
  constructor(
    readonly body: Uint8Array,
    readonly props: MessageProps,
    readonly script: { events: string[]; failing?: Settle[]; redelivered?: boolean },
  ) {}
  get redelivered(): boolean {
    return this.script.redelivered ?? false;
  }
  #settle(kind: Settle): Promise<void> {
    this.script.events.push(kind);
    if (this.script.failing?.includes(kind)) {
      return Promise.reject(new BrokerError(`${kind} refused`, { recoverable: false }));
    }
    this.settled = true;
    return Promise.resolve();
  }
  ack(): Promise<void> {
    return this.#settle("ack");
  }
  deadLetter(reason: string, headers?: Record<string, unknown>): Promise<void> {
    this.deadLetters.push({ reason, headers });
    return this.#settle("deadLetter");
  }
  requeue(): Promise<void> {
    return this.#settle("requeue");
  }
  release(headers: Record<string, unknown> = {}): Promise<void> {
    this.releasedWith.push(headers);
    return this.#settle("release");
  }
}

/** A memory transport that notes each publish in `events`, and can fail the ones to `failOn`. */
class NotingTransport extends MemoryTransport {
  failOn: { queue: string; error: Error } | null = null;
  constructor(broker: MemoryBroker, readonly events: string[], clock: ManualClock) {
    super(broker, { clock });
  }
  override publish(queue: string, body: Uint8Array, options: PublishOptions = {}): Promise<void> {
    this.events.push(`publish ${queue}`);
    if (this.failOn?.queue === queue) return Promise.reject(this.failOn.error);
    return super.publish(queue, body, options);
  }
}

function taskT(run: TaskDefinition["run"]): TaskDefinition {
  return {
    name: "task_h",
    queue: Q,
    retry: { ...DEFAULT_RETRY_SETTINGS, backoffMs: 1000, jitter: false },
    timeoutMs: null,
    run,
    source: "test",
  };
}

async function setup(run: TaskDefinition["run"] = () => 42) {
  const events: string[] = [];
  const clock = new ManualClock(Date.parse("2026-12-01T00:00:00Z"));
  const transport = new NotingTransport(new MemoryBroker({ clock }), events, clock);
  await transport.assertQueue(REPLY);
  await transport.assertTaskQueue(Q);
  const task = taskT(run);
  const deps: DeliveryDeps = {
    transport,
    tasks: new Map([[task.name, { task, policy: exponentialBackoff(task.retry) }]]),
    queues: new Set([Q]),
    queueOptions: () => ({}),
    workerName: "h@test",
    logger: silentLogger,
    metrics: new WorkerMetrics(),
    maxMessageBytes: 1024 * 1024,
    maxRedeliveries: 3,
    stopSignal: new AbortController().signal,
    intakeSignal: new AbortController().signal,
    limits: { limits: () => false, acquire: () => Promise.resolve(() => Promise.resolve()) },
    runner: inlineRunner({ clock }),
    inFlight: new InFlightTasks(),
    revoked: { get: () => undefined },
    held: new HeldMessages(),
    clock,
    tracer: NO_TRACING,
    now: () => clock.now(),
  };
  const deliveryOf = (
    script: { failing?: Settle[]; redelivered?: boolean; headers?: Record<string, unknown> } = {},
    task = "task_h",
  ) => {
    const message = createTaskMessage(task, { replyTo: REPLY, id: "id-1" });
    const { body, props } = encodeTaskMessage(message);
    const headers = { ...props.headers, ...script.headers };
    return new ScriptedDelivery(body, { ...props, headers } as MessageProps, {
      events,
      ...script,
    });
  };
  const results = async () => {
    const out = [];
    for (let d = await transport.get(REPLY); d !== null; d = await transport.get(REPLY)) {
      await d.ack();
      out.push(decodeResultMessage(d.body, d.props));
    }
    return out;
  };
  return { events, transport, deps, deliveryOf, results };
}

Deno.test("handleDelivery: the result is confirmed before the message is acked", async () => {
  const { events, deps, deliveryOf, results } = await setup();
  await handleDelivery(deliveryOf(), deps);
  assert.deepEqual(events, [`publish ${REPLY}`, "ack"]);
  const [result] = await results();
  assert.equal(result.status, "SUCCESS");
  assert.equal(result.result, 42);
});

Deno.test("handleDelivery: a retry is published to the queue before the ack; RETRY follows", async () => {
  const { events, deps, deliveryOf, results } = await setup(() => {
    throw new Error("boom");
  });
  await handleDelivery(deliveryOf(), deps);
  assert.deepEqual(events, [`publish ${Q}`, "ack", `publish ${REPLY}`]);
  assert.deepEqual((await results()).map((r) => r.status), ["RETRY"]);
});

Deno.test("handleDelivery: an undecodable body is dead-lettered with the reason; the sender is told", async () => {
  const { events, deps, results } = await setup();
  const delivery = new ScriptedDelivery(new TextEncoder().encode("{not json"), {
    contentType: "application/json",
    contentEncoding: "utf-8",
    correlationId: "id-9",
    replyTo: REPLY,
    headers: { id: "id-9", task: "task_h" },
  }, { events });
  await handleDelivery(delivery, deps);
  assert.deepEqual(events, [`publish ${REPLY}`, "deadLetter"]);
  assert.equal(delivery.deadLetters[0].headers?.["x-dts-error-type"], "ProtocolError");
  const [result] = await results();
  assert.equal(result.taskId, "id-9");
  assert.equal(result.status, "FAILURE");
});

Deno.test("handleDelivery: a redelivery after another worker died is put back counted, not run", async () => {
  let runs = 0;
  const { events, deps, deliveryOf } = await setup(() => ++runs);
  const delivery = deliveryOf({ redelivered: true });
  await handleDelivery(delivery, deps);
  assert.equal(runs, 0);
  assert.deepEqual(events, ["release"]);
  assert.deepEqual(delivery.releasedWith, [{ [REDELIVERIES_HEADER]: 1 }]);
});

Deno.test("handleDelivery: a redelivery past the limit is dead-lettered as poison", async () => {
  const { deps, deliveryOf, results } = await setup();
  const delivery = deliveryOf({ redelivered: true, headers: { [REDELIVERIES_HEADER]: 3 } });
  await handleDelivery(delivery, deps);
  assert.equal(delivery.deadLetters[0].headers?.["x-dts-error-type"], "WorkerLostError");
  assert.equal((await results())[0].status, "FAILURE");
});

Deno.test("handleDelivery: a copy of a running message waits for it and is acked, never run twice", async () => {
  let runs = 0;
  const release = Promise.withResolvers<void>();
  const { deps, deliveryOf } = await setup(async () => {
    runs++;
    await release.promise;
    return "done";
  });
  const first = deliveryOf();
  const copy = deliveryOf({ redelivered: true });
  const running = handleDelivery(first, deps);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const waiting = handleDelivery(copy, deps);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(copy.settled, false, "the copy must wait for the running one");
  release.resolve();
  await Promise.all([running, waiting]);
  assert.equal(runs, 1);
  assert.equal(first.settled, true);
  assert.equal(copy.settled, true);
});

Deno.test("handleDelivery: a passing broker error while recording releases the message", async () => {
  const { events, transport, deps, deliveryOf } = await setup();
  transport.failOn = {
    queue: REPLY,
    error: new BrokerError("confirm timeout", { recoverable: true }),
  };
  // The recoverable error is retried twice while connected; the clock must move for those waits.
  const delivery = deliveryOf();
  const handled = handleDelivery(delivery, deps);
  for (let i = 0; i < 20 && !delivery.settled; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    (deps.clock as ManualClock).tick(2000);
  }
  await handled;
  assert.equal(events.filter((e) => e === `publish ${REPLY}`).length, 3);
  assert.equal(events.at(-1), "release");
});

Deno.test("handleDelivery: a lasting error dead-letters; when that fails too, it requeues", async () => {
  const { events, transport, deps, deliveryOf } = await setup();
  transport.failOn = { queue: REPLY, error: new BrokerError("refused", { recoverable: false }) };
  const delivery = deliveryOf({ failing: ["deadLetter"] });
  await handleDelivery(delivery, deps);
  assert.deepEqual(events, [`publish ${REPLY}`, "deadLetter", "requeue"]);
  assert.equal(delivery.settled, true);
});

Deno.test("handleDelivery: never rejects, even when no settle works", async () => {
  const { deps, deliveryOf } = await setup();
  const delivery = deliveryOf({ failing: ["ack", "deadLetter", "requeue", "release"] });
  await handleDelivery(delivery, deps); // resolves: the broker gets it back with the channel
  assert.equal(delivery.settled, false);
});
