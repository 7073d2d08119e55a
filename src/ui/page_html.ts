/**
 * The dashboard's HTML shell: styles inline, one script, no external
 * assets and nothing secret (the token, when there is one, travels as an
 * HttpOnly cookie the script cannot read).
 * @module
 */
import { PAGE_CSS } from "./page_css.ts";

/** The dashboard page. */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>dts ui</title>
<link rel="icon" href="data:,">
<style>${PAGE_CSS}</style>
</head><body>
<div id="app"><p class="muted">Loading the dashboard…</p></div>
<script type="module" src="/assets/dashboard.js"></script>
</body></html>
`;
}
