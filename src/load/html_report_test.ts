import assert from "node:assert/strict";
import { renderLoadReportHtml } from "./html_report.ts";

const report = {
  task: "task_<a>",
  sent: 10,
  succeeded: 9,
  failed: 1,
  timed_out: 0,
  interrupted: 2,
  duration_s: 1.5,
  throughput_per_s: 6.7,
  latency_ms: { p50: 1, p95: 2, p99: 3, max: 4 },
};

Deno.test("renderLoadReportHtml() shows every number and escapes text", () => {
  const html = renderLoadReportHtml(report, { broker: "amqp://u:***@h/", at: new Date(0) });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /task_&#60;a&#62;/);
  assert.doesNotMatch(html, /task_<a>/);
  for (
    const text of [
      "interrupted</th><td>2",
      "6.7 tasks/s",
      "1.5 s",
      "p99</th><td>3 ms",
      "amqp://u:***@h/",
    ]
  ) {
    assert.ok(html.includes(text), text);
  }
  assert.match(html, /width:100%/); // the max bar is full width
});
