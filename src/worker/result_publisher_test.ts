import assert from "node:assert/strict";
import { UnroutableError } from "../errors.ts";
import { createLogger } from "../log/logger.ts";
import { createTaskMessage } from "../protocol/celery_task_message.ts";
import type { Transport } from "../transport/transport.ts";
import { publishFinal, publishResult } from "./result_publisher.ts";

/** A transport whose every publish comes back unroutable: the reply queue is gone. */
function goneReplyQueue(): Transport {
  return {
    publish: (routingKey: string) =>
      Promise.reject(new UnroutableError(`no route to "${routingKey}"`, routingKey)),
  } as unknown as Transport;
}

Deno.test("publishResult() warns once per task when its reply queue is gone, not per state", async () => {
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger({
    format: "json",
    level: "debug",
    write: (line) => lines.push(JSON.parse(line)),
  });
  const ctx = { transport: goneReplyQueue(), workerName: "w@h", logger, now: () => 0 };
  const message = createTaskMessage("task_a", { replyTo: "gone.reply" });
  await publishResult(message, ctx, { status: "STARTED", queue: "queue_a" });
  await publishResult(message, ctx, { status: "RETRY", queue: "queue_a" });
  await publishFinal(message, ctx, { status: "SUCCESS", result: 1, queue: "queue_a" });
  const warnings = lines.filter((l) => l.level === "warn");
  assert.deepEqual(warnings.map((l) => l.msg), ["Result not delivered: the reply queue is gone"]);
});
