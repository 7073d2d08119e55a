/**
 * The styles the dashboard and the load report share: light and dark from
 * the browser's `prefers-color-scheme`, and the few uPlot classes the charts
 * need (uPlot's own stylesheet is not bundled).
 * @module
 */
export const PAGE_CSS = `
:root{--bg:#f7f8fa;--panel:#fff;--fg:#1d2330;--muted:#667085;--line:#e3e6ec;--accent:#2563eb;
--ok:#15803d;--bad:#b91c1c;--warn:#b45309;--run:#7c3aed;color-scheme:light dark}
@media (prefers-color-scheme: dark){:root{--bg:#0f1218;--panel:#171b23;--fg:#e6e9ef;--muted:#98a2b3;
--line:#2a303c;--accent:#60a5fa;--ok:#4ade80;--bad:#f87171;--warn:#fbbf24;--run:#c4b5fd}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1.2rem;border-bottom:1px solid var(--line);background:var(--panel)}
header h1{font-size:15px;margin:0}
main{padding:1rem 1.2rem;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,640px),1fr))}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;min-width:0;overflow-x:auto}
section.wide{grid-column:1/-1}
h2{font-size:13px;margin:0 0 .5rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.28rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.muted{color:var(--muted)}
.pill{display:inline-block;padding:0 .45rem;border-radius:99px;font-size:11px;font-weight:600;border:1px solid currentColor}
.s-SUCCESS,.online{color:var(--ok)}.s-FAILURE,.s-REJECTED,.offline{color:var(--bad)}
.s-RETRY,.s-REVOKED{color:var(--warn)}.s-STARTED,.s-RECEIVED{color:var(--run)}.s-PENDING{color:var(--muted)}
button{font:inherit;font-size:12px;padding:.15rem .6rem;border-radius:5px;border:1px solid var(--line);
background:var(--bg);color:var(--fg);cursor:pointer}
button:hover{border-color:var(--accent)}button.danger:hover{border-color:var(--bad);color:var(--bad)}
input[type=search]{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);border-radius:5px;background:var(--bg);color:var(--fg);width:22rem;max-width:100%}
.scroll{max-height:26rem;overflow:auto}
.dot{display:inline-block;width:.55rem;height:.55rem;border-radius:50%;background:currentColor;margin-right:.35rem}
.live{margin-left:auto;font-size:12px}
.charts{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
.chart h3{font-size:12px;margin:.2rem 0;color:var(--muted);font-weight:600}
.notice{padding:.4rem .6rem;border-radius:5px;border:1px solid var(--line);margin-bottom:.5rem}
.uplot{font-family:inherit;width:min-content}.uplot canvas{display:block}
.u-wrap{position:relative;user-select:none}.u-over,.u-under{position:absolute}.u-under{overflow:hidden}
.u-axis{position:absolute}.u-legend{font-size:11px;margin:.2rem auto;text-align:center}
.u-legend .u-marker{width:1em;height:3px;margin-right:4px;display:inline-block;vertical-align:middle}
.u-legend th,.u-legend td{border:0;padding:0 .3rem;font-weight:normal}.u-inline tr{display:inline-block}
.u-cursor-x,.u-cursor-y{position:absolute;left:0;top:0;pointer-events:none}.u-cursor-x{border-right:1px dashed var(--muted)}
.u-cursor-y{border-bottom:1px dashed var(--muted)}.u-cursor-pt{position:absolute;border-radius:50%;pointer-events:none}
.u-select{position:absolute;pointer-events:none;background:rgba(100,100,100,.1)}.u-hz .u-cursor-y,.u-off{display:none}
`;
