/// <reference lib="dom" />
/**
 * The dashboard page: the panels over the live state, and the charts.
 * @module
 */
import { html } from "htm/preact";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Chart, latencyChart, throughputChart } from "./charts.ts";
import { type TimeSeries, useLiveState } from "./live_state.ts";
import { DeadLettersPanel, QueuesPanel, ResultsPanel, TasksPanel, WorkersPanel } from "./panels.ts";

function ChartBox(props: {
  title: string;
  series: TimeSeries;
  make: (el: HTMLElement, s: TimeSeries, width: number) => Chart;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    const el = box.current!;
    chart.current = props.make(el, props.series, Math.max(320, el.clientWidth - 8));
    return () => chart.current?.destroy();
  }, []);
  useEffect(() => chart.current?.update(props.series), [props.series]);
  return html`
    <div class="chart">
      <h3>${props.title}</h3>
      <div ref=${box}></div>
    </div>
  `;
}

/** Runtime, and publish-to-result for the tasks whose `task-sent` was seen (dispatch.events). */
function dashboardLatencyChart(el: HTMLElement, series: TimeSeries, width: number): Chart {
  return latencyChart(el, series, width, { measure: "runtime", sentToResult: true });
}

function App() {
  const live = useLiveState();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const snap = live.snapshot;
  return html`<header><h1>dts</h1><span class="muted mono">${snap?.broker ?? ""}</span>
    <span class=${"live " + (live.connected ? "online" : "offline")} id="live">
      <span class="dot"></span>${live.connected ? "live" : "reconnecting…"}</span></header>
    ${
    snap === null
      ? html`
        <main>
          <p class="muted">Connecting…</p>
        </main>
      `
      : html`
        <main>
          <${WorkersPanel} workers=${snap.workers} now=${now} />
          <${QueuesPanel} queues=${snap.queues} />
          <section class="wide" id="charts">
            <h2>Throughput and latency, last 15 minutes</h2>
            <div class="charts">
              <${ChartBox} title="Tasks finished per second" series=${snap
                .series} make=${throughputChart} />
              <${ChartBox}
                title="Latency per task (ms): runtime on the worker; sent→result where the send was seen"
                series=${snap.series}
                make=${dashboardLatencyChart}
              />
            </div>
          </section>
          <${TasksPanel} tasks=${live.tasks} />
          <${DeadLettersPanel} deadLetters=${snap.deadLetters} />
          <${ResultsPanel} results=${snap.results} />
        </main>
      `
  }`;
}

const root = document.getElementById("app")!;
root.textContent = ""; // the "Loading…" line of the shell
render(html`<${App} />`, root);
