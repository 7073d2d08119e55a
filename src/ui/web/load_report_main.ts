/// <reference lib="dom" />
/**
 * The load report's charts (the dashboard's own): the data is in the page,
 * as JSON in `<script type="application/json" id="report-data">`.
 * @module
 */
import type { Histogram, TimeSeries } from "../chart_series.ts";
import { histogramChart, latencyChart, throughputChart } from "./charts.ts";

const data = JSON.parse(document.getElementById("report-data")!.textContent!) as {
  series: TimeSeries;
  histogram: Histogram;
};
const width = (id: string) => Math.max(320, document.getElementById(id)!.clientWidth - 8);
histogramChart(document.getElementById("histogram")!, data.histogram, width("histogram"));
throughputChart(document.getElementById("throughput")!, data.series, width("throughput"));
latencyChart(document.getElementById("latency")!, data.series, width("latency"));
document.body.dataset.charts = "ready";
