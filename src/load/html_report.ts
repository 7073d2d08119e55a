/**
 * A load test's report as one self-contained HTML page (no external
 * assets: it opens offline, from a mail attachment too), for
 * `dts load --report F.html`. With `charts`, it also draws the dashboard's
 * charts (latency histogram, throughput and latency over time) from data
 * and a script written into the page; without, it is a plain table.
 * @module
 */
import type { LoadReport } from "./load_runner.ts";

/** The charts of the page: the bundled script, its styles and its data (JSON-able). */
export interface ReportCharts {
  script: string;
  css: string;
  data: unknown;
}

/** Render the report; every value is escaped. */
export function renderLoadReportHtml(
  report: LoadReport,
  options: { broker: string; at: Date; charts?: ReportCharts },
): string {
  const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const latency = report.latency_ms;
  const scale = Math.max(latency.max, 0.001);
  const bar = (label: string, ms: number) =>
    `<tr><th>${label}</th><td>${esc(ms)} ms</td><td><div class="bar" style="width:${
      Math.max(1, Math.round((ms / scale) * 100))
    }%"></div></td></tr>`;
  const rows: [string, unknown][] = [
    ["task", report.task],
    ["broker", options.broker],
    ["sent", report.sent],
    ["succeeded", report.succeeded],
    ["failed", report.failed],
    ["timed out", report.timed_out],
    ["interrupted", report.interrupted],
    ["duration", `${report.duration_s} s`],
    ["throughput", `${report.throughput_per_s} tasks/s`],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dts load: ${esc(report.task)}</title>
<meta name="color-scheme" content="light dark">
<style>${options.charts?.css ?? ""}
body{font:14px/1.4 system-ui,sans-serif;margin:2rem}
table{border-collapse:collapse;margin:1rem 0}th,td{padding:.25rem .75rem;text-align:left}
th{font-weight:600}.bar{background:#3b82f6;height:.8rem;min-width:2px}
td:last-child{width:20rem}
</style></head><body>
<h1>dts load test: ${esc(report.task)}</h1>
<p>${esc(options.at.toISOString())}</p>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>
<h2>Latency, publish to result</h2>
<table>${bar("p50", latency.p50)}${bar("p95", latency.p95)}${bar("p99", latency.p99)}${
    bar("max", latency.max)
  }</table>
${options.charts ? chartsHtml(options.charts) : ""}</body></html>
`;
}

function chartsHtml(charts: ReportCharts): string {
  // Inside <script>, "</script" would end it: "<" is escaped in the data, and
  // "</" written "<\/" in the code (the same text in a JS string or regex).
  const data = JSON.stringify(charts.data).replace(/</g, "\\u003c");
  const script = charts.script.replace(/<\/(script)/gi, "<\\/$1");
  return `<h2>Latency histogram</h2><div id="histogram" class="chart"></div>
<h2>Throughput over time</h2><div id="throughput" class="chart"></div>
<h2>Latency over time (p50, p95, max per interval)</h2><div id="latency" class="chart"></div>
<script type="application/json" id="report-data">${data}</script>
<script type="module">${script}</script>
`;
}
