import assert from "node:assert/strict";
import { activeQueueNames, servingWorkers } from "./serving_workers.ts";

const queue = (name: string) => ({ name, exchange: { name: "" }, routing_key: name });

Deno.test("servingWorkers() counts only the workers that consume one of the queues", () => {
  const replies = new Map<string, unknown>([
    ["worker-a.1@h", [queue("queue_a")]],
    ["worker-c.2@h", [queue("queue_c")]],
    ["celery@h", [queue("queue_b"), queue("celery")]],
    ["odd@h", { error: "No such command: active_queues" }],
  ]);
  assert.deepEqual(servingWorkers(replies, ["queue_a", "queue_b"]), {
    serving: ["celery@h", "worker-a.1@h"],
    answered: ["celery@h", "odd@h", "worker-a.1@h", "worker-c.2@h"],
  });
});

Deno.test("activeQueueNames() reads the names of an active_queues reply and ignores the rest", () => {
  assert.deepEqual(activeQueueNames([queue("q1"), { nope: 1 }, null, queue("q2")]), ["q1", "q2"]);
  assert.deepEqual(activeQueueNames("pong"), []);
});
