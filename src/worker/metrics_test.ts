import assert from "node:assert/strict";
import { DURATION_BUCKETS_S, WorkerMetrics } from "./metrics.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Parsed {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

/** A tiny reader of the Prometheus text format, strict enough to catch mistakes. */
function parseExposition(text: string): Parsed {
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  const parsed: Parsed = { help: new Map(), type: new Map(), samples: [] };
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === "HELP" ? parsed.help : parsed.type).set(meta[2], meta[3]);
      continue;
    }
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    assert.ok(head, `bad line: ${line}`);
    const name = head[1];
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      rest = rest.slice(1);
      while (!rest.startsWith("}")) {
        const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest);
        assert.ok(label, `bad label in: ${line}`);
        rest = rest.slice(label[0].length);
        let value = "";
        while (rest[0] !== '"') {
          assert.ok(rest.length > 0, `unterminated label in: ${line}`);
          if (rest[0] === "\\") {
            const escaped = rest[1];
            assert.ok(
              escaped === "\\" || escaped === '"' || escaped === "n",
              `bad escape: ${line}`,
            );
            value += escaped === "n" ? "\n" : escaped;
            rest = rest.slice(2);
          } else {
            assert.notEqual(rest[0], "\n");
            value += rest[0];
            rest = rest.slice(1);
          }
        }
        labels[label[1]] = value;
        rest = rest.slice(1);
        if (rest.startsWith(",")) rest = rest.slice(1);
      }
      rest = rest.slice(1);
    }
    const value = /^ (\S+)$/.exec(rest);
    assert.ok(value, `bad value in: ${line}`);
    const number = value[1] === "+Inf" ? Infinity : Number(value[1]);
    assert.ok(!Number.isNaN(number), `bad number in: ${line}`);
    parsed.samples.push({ name, labels, value: number });
  }
  return parsed;
}

function find(parsed: Parsed, name: string, labels: Record<string, string> = {}): number {
  const found = parsed.samples.filter((s) =>
    s.name === name && Object.keys(labels).length === Object.keys(s.labels).length &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(found.length, 1, `one sample ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
}

Deno.test("WorkerMetrics.render() declares HELP and TYPE for every metric", () => {
  const parsed = parseExposition(new WorkerMetrics().render());
  const expected: Record<string, string> = {
    dts_tasks_total: "counter",
    dts_task_duration_seconds: "histogram",
    dts_task_retries_total: "counter",
    dts_tasks_in_flight: "gauge",
    dts_worker_concurrency: "gauge",
    dts_broker_connected: "gauge",
    dts_broker_reconnects_total: "counter",
  };
  for (const [name, type] of Object.entries(expected)) {
    assert.equal(parsed.type.get(name), type, name);
    assert.ok((parsed.help.get(name) ?? "").length > 0, `HELP ${name}`);
  }
  assert.equal(find(parsed, "dts_tasks_in_flight"), 0);
  assert.equal(find(parsed, "dts_broker_connected"), 0);
  assert.equal(find(parsed, "dts_broker_reconnects_total"), 0);
});

Deno.test("WorkerMetrics.render() counts tasks by task and status", () => {
  const metrics = new WorkerMetrics();
  metrics.taskFinished("task_a", "SUCCESS", 0.01);
  metrics.taskFinished("task_a", "SUCCESS", 0.02);
  metrics.taskFinished("task_a", "RETRY", 0.5);
  metrics.taskFinished("task_b", "FAILURE", 1);
  metrics.taskFinished("task_b", "REJECTED", 0);
  const parsed = parseExposition(metrics.render());
  assert.equal(find(parsed, "dts_tasks_total", { task: "task_a", status: "SUCCESS" }), 2);
  assert.equal(find(parsed, "dts_tasks_total", { task: "task_a", status: "RETRY" }), 1);
  assert.equal(find(parsed, "dts_tasks_total", { task: "task_b", status: "FAILURE" }), 1);
  assert.equal(find(parsed, "dts_tasks_total", { task: "task_b", status: "REJECTED" }), 1);
});

Deno.test("WorkerMetrics.render() writes a cumulative duration histogram per task", () => {
  const metrics = new WorkerMetrics();
  const durations = [0.001, 0.005, 0.007, 0.3, 2, 45, 120];
  for (const d of durations) metrics.taskFinished("task_a", "SUCCESS", d);
  metrics.taskFinished("task_b", "SUCCESS", 0.2);
  const parsed = parseExposition(metrics.render());

  const buckets = parsed.samples.filter((s) =>
    s.name === "dts_task_duration_seconds_bucket" && s.labels.task === "task_a"
  );
  assert.equal(buckets.length, DURATION_BUCKETS_S.length + 1);
  const bounds = buckets.map((b) => b.labels.le === "+Inf" ? Infinity : Number(b.labels.le));
  assert.equal(bounds[0], 0.005);
  assert.equal(bounds.at(-2), 60);
  assert.equal(bounds.at(-1), Infinity);
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(bounds[i] > bounds[i - 1], "bounds increase");
    assert.ok(buckets[i].value >= buckets[i - 1].value, "counts are cumulative");
  }
  for (const bucket of buckets) {
    const le = bucket.labels.le === "+Inf" ? Infinity : Number(bucket.labels.le);
    assert.equal(bucket.value, durations.filter((d) => d <= le).length, `le=${bucket.labels.le}`);
  }
  assert.equal(find(parsed, "dts_task_duration_seconds_count", { task: "task_a" }), 7);
  const sum = find(parsed, "dts_task_duration_seconds_sum", { task: "task_a" });
  assert.ok(Math.abs(sum - durations.reduce((a, b) => a + b, 0)) < 1e-9);
  assert.equal(find(parsed, "dts_task_duration_seconds_count", { task: "task_b" }), 1);
  assert.equal(find(parsed, "dts_task_duration_seconds_bucket", { task: "task_b", le: "0.25" }), 1);
  assert.equal(find(parsed, "dts_task_duration_seconds_bucket", { task: "task_b", le: "0.1" }), 0);
});

Deno.test("WorkerMetrics.render() counts retries, in-flight, connection and reconnects", () => {
  const metrics = new WorkerMetrics();
  metrics.retried("task_a");
  metrics.retried("task_a");
  metrics.retried("task_b");
  metrics.taskStarted();
  metrics.taskStarted();
  metrics.taskStarted();
  metrics.taskEnded();
  metrics.setBrokerConnected(true);
  metrics.reconnected();
  let parsed = parseExposition(metrics.render());
  assert.equal(find(parsed, "dts_task_retries_total", { task: "task_a" }), 2);
  assert.equal(find(parsed, "dts_task_retries_total", { task: "task_b" }), 1);
  assert.equal(find(parsed, "dts_tasks_in_flight"), 2);
  assert.equal(find(parsed, "dts_broker_connected"), 1);
  assert.equal(find(parsed, "dts_broker_reconnects_total"), 1);

  metrics.setBrokerConnected(false);
  metrics.taskEnded();
  metrics.taskEnded();
  metrics.taskEnded();
  parsed = parseExposition(metrics.render());
  assert.equal(find(parsed, "dts_broker_connected"), 0);
  assert.equal(find(parsed, "dts_tasks_in_flight"), 0);
});

Deno.test("WorkerMetrics.render() shows the pool size as dts_worker_concurrency, as it moves", () => {
  const metrics = new WorkerMetrics();
  assert.equal(find(parseExposition(metrics.render()), "dts_worker_concurrency"), 0);
  metrics.setConcurrency(4);
  assert.equal(find(parseExposition(metrics.render()), "dts_worker_concurrency"), 4);
  metrics.setConcurrency(1);
  assert.equal(find(parseExposition(metrics.render()), "dts_worker_concurrency"), 1);
});

Deno.test("WorkerMetrics.render() escapes label values", () => {
  const metrics = new WorkerMetrics();
  const odd = 'we"ird\\name\nline';
  metrics.taskFinished(odd, "SUCCESS", 0.1);
  metrics.retried(odd);
  const text = metrics.render();
  assert.ok(text.includes('task="we\\"ird\\\\name\\nline"'));
  const parsed = parseExposition(text);
  assert.equal(find(parsed, "dts_tasks_total", { task: odd, status: "SUCCESS" }), 1);
  assert.equal(find(parsed, "dts_task_retries_total", { task: odd }), 1);
});

Deno.test("WorkerMetrics.taskFinished() counts but does not observe invalid durations", () => {
  const metrics = new WorkerMetrics();
  metrics.taskFinished("task_a", "FAILURE", Number.NaN);
  metrics.taskFinished("task_a", "FAILURE", -1);
  const parsed = parseExposition(metrics.render());
  assert.equal(find(parsed, "dts_tasks_total", { task: "task_a", status: "FAILURE" }), 2);
  assert.equal(parsed.samples.filter((s) => s.name.startsWith("dts_task_duration")).length, 0);
});

Deno.test("WorkerMetrics.render() shows the fleet-wide limits of limited tasks only", () => {
  const metrics = new WorkerMetrics();
  assert.ok(!metrics.render().includes("dts_rate_limit"), "no limit, no limit metrics");
  metrics.describeLimitsWith(() => ({
    task_a: { rate_limit: "20/s", leader: true, tokens_taken: 7, waiting: 3 },
    task_b: { max_concurrency: 2, slots_held: 1, waiting: 0 },
  }));
  const parsed = parseExposition(metrics.render());
  const value = (name: string, task: string) =>
    parsed.samples.find((s) => s.name === name && s.labels.task === task)?.value;
  assert.equal(value("dts_rate_limit_leader", "task_a"), 1);
  assert.equal(value("dts_rate_limit_tokens_taken_total", "task_a"), 7);
  assert.equal(value("dts_rate_limit_leader", "task_b"), undefined);
  assert.equal(value("dts_concurrency_slots_held", "task_b"), 1);
  assert.equal(value("dts_limit_waiting_tasks", "task_a"), 3);
  assert.equal(value("dts_limit_waiting_tasks", "task_b"), 0);
  assert.equal(parsed.type.get("dts_rate_limit_leader"), "gauge");
  assert.equal(parsed.type.get("dts_rate_limit_tokens_taken_total"), "counter");
});

Deno.test("WorkerMetrics.render() counts Celery events by outcome, only with events on", () => {
  const metrics = new WorkerMetrics();
  metrics.countEventsWith(() => null);
  assert.ok(!metrics.render().includes("dts_events_total"), "events off, no event metric");
  const stats = { sent: 12, dropped: 3, failed: 1 };
  metrics.countEventsWith(() => stats);
  stats.sent = 40; // read at each scrape, not when set
  const parsed = parseExposition(metrics.render());
  const value = (outcome: string) =>
    parsed.samples.find((s) => s.name === "dts_events_total" && s.labels.outcome === outcome)
      ?.value;
  assert.deepEqual([value("sent"), value("dropped"), value("failed")], [40, 3, 1]);
  assert.equal(parsed.type.get("dts_events_total"), "counter");
});
