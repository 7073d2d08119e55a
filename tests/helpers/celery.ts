/**
 * The real Celery (Debian's python3-celery 5.2) as a peer in tests: a worker,
 * a client and the `celery` CLI, each a subprocess of `/usr/bin/python3` run
 * from `tests/interop/` with the app `celeryapp.py`, against the test broker
 * and namespaced queues. Every process is killed on dispose.
 * @module
 */

import { type ProcessRun, SpawnedProcess } from "./spawned_process.ts";

const INTEROP_DIR = new URL("../interop/", import.meta.url).pathname;
/** Debian's interpreter: the one that has `celery` (a pyenv `python3` may come first on PATH). */
const PYTHON = "/usr/bin/python3";

/** What a finished Celery process printed and how it exited. */
export type CeleryRun = ProcessRun;

/** Options shared by every Celery process. */
export interface CeleryOptions {
  /** The test broker's URL (`amqp://…`), as `testBroker()` gives it. */
  brokerUrl: string;
  /** Namespaced queue names the app knows (bound to Celery's default exchange). */
  queues?: readonly string[];
  /** Declare those queues as priority queues with this `x-max-priority`. */
  maxPriority?: number;
}

/**
 * kombu's form of an `amqp://` URL: scheme `pyamqp`, and the vhost spelt as
 * kombu reads it (`//` for the default vhost `/`).
 * @example celeryBrokerUrl("amqp://guest:guest@127.0.0.1:5672/") // "pyamqp://guest:guest@127.0.0.1:5672//"
 */
export function celeryBrokerUrl(amqpUrl: string): string {
  const url = new URL(amqpUrl);
  if (url.protocol !== "amqp:") {
    throw new TypeError(`Cannot give "${url.protocol}" to Celery: the interop tests use amqp://`);
  }
  const vhost = url.pathname === "" || url.pathname === "/" ? "/" : url.pathname.slice(1);
  const auth = url.username ? `${url.username}:${url.password}@` : "";
  return `pyamqp://${auth}${url.host}/${vhost}`;
}

/**
 * Fail with advice unless `/usr/bin/python3` can import Celery (`scripts/test` installs it).
 * @throws {Error} when Celery is missing
 */
export async function requireCelery(): Promise<void> {
  const probe = await new Deno.Command(PYTHON, {
    args: ["-c", "import celery; print(celery.__version__)"],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => ({ success: false, stdout: new Uint8Array(), error }));
  if (!probe.success) {
    throw new Error(
      `Cannot run the Celery interop tests: ${PYTHON} cannot import celery. ` +
        "Install it with `apt-get install -y python3-celery` (scripts/test does this)",
    );
  }
}

function celeryCommand(args: readonly string[], options: CeleryOptions): Deno.Command {
  return new Deno.Command(PYTHON, {
    args: [...args],
    cwd: INTEROP_DIR,
    env: {
      DTS_CELERY_BROKER: celeryBrokerUrl(options.brokerUrl),
      DTS_CELERY_QUEUES: (options.queues ?? []).join(","),
      ...(options.maxPriority === undefined
        ? {}
        : { DTS_CELERY_MAX_PRIORITY: String(options.maxPriority) }),
      // Keep __pycache__ out of the checkout.
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** A running Celery subprocess; stopped on dispose with a warm shutdown (SIGTERM). */
export class CeleryProcess extends SpawnedProcess {
  constructor(args: readonly string[], options: CeleryOptions) {
    super(celeryCommand(args, options));
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A Celery worker that has said "ready"; stopped on dispose. */
export interface CeleryWorker extends AsyncDisposable {
  /** Its node name, e.g. `celery-t_1a2b3c4d@host`. */
  readonly name: string;
  readonly process: CeleryProcess;
  /** Ids of the tasks it logged as succeeded so far (Celery's `Task x[id] succeeded` lines). */
  succeededIds(): string[];
}

/**
 * Start `celery worker` (solo pool, one process, no gossip/mingle; no heartbeat unless `events`)
 * consuming `options.queues`, and wait until it is ready.
 */
export async function startCeleryWorker(
  options: CeleryOptions & {
    prefix: string;
    /** Send events (`-E`) and heartbeats, as a monitored Celery worker does. @default false */
    events?: boolean;
  },
): Promise<CeleryWorker> {
  const queues = options.queues ?? [];
  if (queues.length === 0) throw new TypeError("Cannot start a Celery worker without queues");
  const process = new CeleryProcess([
    "-m",
    "celery",
    "-A",
    "celeryapp",
    "worker",
    "-Q",
    queues.join(","),
    "-P",
    "solo",
    "-c",
    "1",
    "--without-gossip",
    "--without-mingle",
    ...(options.events ? ["-E"] : ["--without-heartbeat"]),
    "-n",
    `celery-${options.prefix}@%h`,
    "-l",
    "INFO",
  ], options);
  try {
    const [, name] = await process.waitFor(/(\S+@\S+) ready\./);
    return {
      name,
      process,
      succeededIds: () =>
        [...process.output.matchAll(/Task \S+\[([0-9a-f-]{36})\] succeeded/g)].map((m) => m[1]),
      [Symbol.asyncDispose]: async () => {
        await process.stop();
      },
    };
  } catch (error) {
    await process.stop();
    throw error;
  }
}

/** One send of `celery_client.py`: `app.send_task(task, args, kwargs, queue=queue, **options)`. */
export interface CelerySend {
  task: string;
  queue: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** e.g. `countdown`, `expires`, `time_limit`, `soft_time_limit` (seconds). */
  options?: Record<string, unknown>;
  /** `app.control.revoke(id, terminate=…)` this many seconds after the send. */
  revoke?: { after_s: number; terminate?: boolean };
}

/** What the Celery client saw for one send. */
export interface CelerySendReport {
  id: string;
  /** Epoch seconds just before `send_task`. */
  sent_at: number;
  /** `AsyncResult.get()`'s value, when it returned. */
  value?: unknown;
  /** What `AsyncResult.get()` raised. */
  error?: {
    type: string;
    module: string;
    message: string;
    /** The class really is `module.type` in Python (false: Celery made one up of that name). */
    real_class: boolean;
  };
  /** `AsyncResult.state` after `get()`. */
  state: string;
  /** Every state message `get(on_message=…)` saw for this task, in order. */
  states: string[];
  /** `AsyncResult.retries` / `.worker` (from the result message; null when absent). */
  retries: number | null;
  worker: string | null;
}

/** A Celery client run in progress; `report` resolves once every `get()` returned. */
export interface CeleryClientRun extends AsyncDisposable {
  /** Resolves once the client has published every task (with their ids). */
  sent: Promise<string[]>;
  report: Promise<CelerySendReport[]>;
}

/** Start `celery_client.py`: it sends every task, then waits for each result in turn. */
export function startCeleryClient(
  options: CeleryOptions & { sends: readonly CelerySend[]; timeoutS?: number },
): CeleryClientRun {
  const spec = { timeout: options.timeoutS ?? 20, sends: options.sends };
  const process = new CeleryProcess(["celery_client.py", JSON.stringify(spec)], options);
  const sent = process.waitFor(/\{"sent": (\[.*?\])\}/, 30_000).then((m) => JSON.parse(m[1]));
  const report = process.finished().then((run) => {
    if (run.code !== 0) {
      throw new Error(`Celery client exited with ${run.code}:\n${run.stderr}${run.stdout}`);
    }
    return JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "") as CelerySendReport[];
  });
  sent.catch(() => {});
  report.catch(() => {});
  return { sent, report, [Symbol.asyncDispose]: () => process.stop().then(() => {}) };
}

/** Send with a Celery client and wait for every result. */
export async function runCeleryClient(
  options: CeleryOptions & { sends: readonly CelerySend[]; timeoutS?: number },
): Promise<CelerySendReport[]> {
  await using client = startCeleryClient(options);
  return await client.report;
}

/** Run `python3 -m celery -A celeryapp <args>` to the end (e.g. `inspect ping`). */
export async function runCeleryCli(
  args: readonly string[],
  options: CeleryOptions,
): Promise<CeleryRun> {
  await using process = new CeleryProcess(["-m", "celery", "-A", "celeryapp", ...args], options);
  const timer = setTimeout(() => process.stop(0), 30_000);
  try {
    return await process.finished();
  } finally {
    clearTimeout(timer);
  }
}
