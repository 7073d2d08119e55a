/**
 * In-process workers and dispatches on a test broker, for tests that need
 * the real program's parts but not a separate process.
 * @module
 */
import { OutcomeCollector } from "../../src/dispatch/collect_outcomes.ts";
import { dispatch, type DispatchJob } from "../../src/dispatch/dispatcher.ts";
import { createLogger, type Logger, silentLogger } from "../../src/log/logger.ts";
import { DEFAULT_RETRY_SETTINGS, type TaskDefinition } from "../../src/plugin/task_plugin.ts";
import type { TaskEvent, TaskOutcome } from "../../src/report/task_event.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { Worker } from "../../src/worker/worker.ts";

/** A task definition for tests, with fast retries unless told otherwise. */
export function testTask(
  name: string,
  queue: string,
  run: TaskDefinition["run"],
  overrides: Partial<TaskDefinition> = {},
): TaskDefinition {
  return {
    name,
    queue,
    retry: { ...DEFAULT_RETRY_SETTINGS, backoffMs: 50, jitter: false },
    timeoutMs: null,
    run,
    source: "test",
    ...overrides,
  };
}

/** A logger for tests: silent, or to stderr when `DTS_TEST_LOGS` is set. */
export function testLogger(): Logger {
  if (!Deno.env.get("DTS_TEST_LOGS")) return silentLogger;
  return createLogger({ format: "pretty", level: "debug", write: (l) => console.error(l) });
}

/** Start a worker; stopped (drained) on dispose. */
export async function startWorker(
  transport: Transport,
  tasks: TaskDefinition[],
  options: { name?: string; concurrency?: number } = {},
): Promise<Worker & AsyncDisposable> {
  const worker = new Worker({
    transport,
    tasks,
    name: options.name ?? `worker-test-${crypto.randomUUID().slice(0, 8)}@test`,
    concurrency: options.concurrency ?? 1,
    logger: testLogger(),
  });
  await worker.start();
  return Object.assign(worker, {
    [Symbol.asyncDispose]: () => worker.stop({ drainTimeoutMs: 2000 }),
  });
}

/** Run a dispatch to the end; every event and the final outcomes. */
export async function runDispatch(
  transport: Transport,
  jobs: DispatchJob[],
  options: { timeoutMs?: number; signal?: AbortSignal; onEvent?: (e: TaskEvent) => void } = {},
): Promise<{ events: TaskEvent[]; outcomes: TaskOutcome[] }> {
  const collector = new OutcomeCollector();
  const events: TaskEvent[] = [];
  for await (
    const event of dispatch({
      transport,
      jobs,
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: options.signal,
    })
  ) {
    events.push(event);
    collector.add(event);
    options.onEvent?.(event);
  }
  return { events, outcomes: collector.outcomes() };
}
