/// <reference lib="dom" />
/**
 * The charts of the dashboard and of the load report, on uPlot: throughput
 * and latency over time, and a latency histogram. Colours come from the
 * page's CSS variables, so they follow light and dark.
 * @module
 */
import uPlot from "uplot";
import type { Histogram, TimeSeries } from "../chart_series.ts";

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

function axes(yLabel: string): uPlot.Axis[] {
  const stroke = cssVar("--muted");
  const grid = { stroke: cssVar("--line"), width: 1 };
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, label: yLabel, size: 56 },
  ];
}

/** A chart handle: feed it new data, or remove it. */
export interface Chart {
  update(series: TimeSeries): void;
  destroy(): void;
}

/** Tasks finished per second (and failures) over time. */
export function throughputChart(el: HTMLElement, series: TimeSeries, width: number): Chart {
  const plot = new uPlot(
    {
      width,
      height: 200,
      axes: axes("tasks/s"),
      scales: { x: { time: true } },
      series: [
        {},
        {
          label: "finished/s",
          stroke: cssVar("--accent"),
          fill: cssVar("--accent") + "22",
          width: 2,
        },
        { label: "failed", stroke: cssVar("--bad"), width: 1.5 },
      ],
    },
    toThroughput(series),
    el,
  );
  return { update: (s) => plot.setData(toThroughput(s)), destroy: () => plot.destroy() };
}

/** What the latency chart draws besides p50, p95 and max of `TimeSeries.p50` etc. */
export interface LatencyChartOptions {
  /** Names what p50/p95/max measure: `runtime` on the dashboard. @default "" (plain "p50") */
  measure?: string;
  /** Also draw `sentP50`/`sentP95`, publish to result, where the sends were seen. @default false */
  sentToResult?: boolean;
}

/** Latency (p50, p95, max per bucket) over time, in ms. */
export function latencyChart(
  el: HTMLElement,
  series: TimeSeries,
  width: number,
  options: LatencyChartOptions = {},
): Chart {
  const measure = options.measure ? `${options.measure} ` : "";
  const sent = options.sentToResult === true;
  const sentSeries: uPlot.Series[] = sent
    ? [
      {
        label: "sent→result p50",
        stroke: cssVar("--accent"),
        width: 2,
        spanGaps: true,
        points: { show: true, size: 5 },
      },
      {
        label: "sent→result p95",
        stroke: cssVar("--accent"),
        width: 1.5,
        dash: [2, 3],
        spanGaps: true,
        points: { show: true, size: 4 },
      },
    ]
    : [];
  const data = (s: TimeSeries): uPlot.AlignedData =>
    sent ? [s.t, s.p50, s.p95, s.max, s.sentP50, s.sentP95] : toLatency(s);
  const plot = new uPlot(
    {
      width,
      height: 200,
      axes: axes("ms"),
      scales: { x: { time: true } },
      series: [
        {},
        {
          label: `${measure}p50`,
          stroke: cssVar("--ok"),
          width: 2,
          spanGaps: true,
          points: { show: true, size: 5 },
        },
        {
          label: `${measure}p95`,
          stroke: cssVar("--warn"),
          width: 2,
          spanGaps: true,
          points: { show: true, size: 5 },
        },
        {
          label: `${measure}max`,
          stroke: cssVar("--bad"),
          width: 1,
          dash: [4, 4],
          spanGaps: true,
        },
        ...sentSeries,
      ],
    },
    data(series),
    el,
  );
  return { update: (s) => plot.setData(data(s)), destroy: () => plot.destroy() };
}

/** A latency histogram as bars over log-spaced bins. */
export function histogramChart(el: HTMLElement, histogram: Histogram, width: number): Chart {
  const centers = histogram.edges.slice(0, -1).map((edge, i) =>
    Math.sqrt(edge * histogram.edges[i + 1])
  );
  const plot = new uPlot(
    {
      width,
      height: 220,
      axes: [
        {
          stroke: cssVar("--muted"),
          grid: { stroke: cssVar("--line") },
          label: "latency, ms (log)",
        },
        { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line") }, label: "tasks", size: 56 },
      ],
      scales: { x: { time: false, distr: 3 } },
      series: [
        {},
        {
          label: "tasks",
          stroke: cssVar("--accent"),
          fill: cssVar("--accent") + "66",
          paths: uPlot.paths.bars!({ size: [0.9, 40] }),
          points: { show: false },
        },
      ],
    },
    [centers, histogram.counts],
    el,
  );
  return { update: () => {}, destroy: () => plot.destroy() };
}

function toThroughput(s: TimeSeries): uPlot.AlignedData {
  return [s.t, s.throughput, s.failed.map((n) => n / (s.bucketMs / 1000))];
}

function toLatency(s: TimeSeries): uPlot.AlignedData {
  return [s.t, s.p50, s.p95, s.max];
}
