/**
 * The backtest as one self-contained HTML page (lightweight-charts 5, standalone build, inlined; no
 * request leaves the page): returns of the strategy and of equal-weight buy-and-hold on a log axis in
 * %, both drawdowns, a price chart with the fills of a chosen symbol, the metric table, the settings,
 * the trades and the notes (the LLM veto is not applied). An IN-SAMPLE window gets a red banner.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { BacktestTrade } from "./engine.js";
import { exitsText, metricRows } from "./format.js";
import { reportData } from "./report-data.js";
import { fixed, minuteUtc, signedUsd, symbolFormat, usd } from "./report-format.js";
import { REPORT_SCRIPT } from "./report-script.js";
import type { BacktestResult } from "./run.js";
import { formatValue } from "./settings.js";

const require = createRequire(import.meta.url);

function chartLibrary(): string {
  // the package exports only its ES module entry and package.json; the standalone build sits in dist/
  const dist = join(dirname(require.resolve("lightweight-charts/package.json")), "dist");
  return readFileSync(join(dist, "lightweight-charts.standalone.production.js"), "utf8");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2430;max-width:1400px}
.chart{position:relative;width:100%;height:340px}
.legend{font:13px ui-monospace,monospace;color:#444;min-height:1.3em;margin:.2rem 0 .4rem;white-space:pre-wrap}
.note{background:#fff4d6;border-left:4px solid #e0a100;padding:.5rem .8rem;margin:.4rem 0}
.in-sample{background:#b71c1c;color:#fff;font-size:1.15rem;padding:.9rem 1.1rem;margin:.8rem 0;border:3px solid #7f0000}
table.grid{border-collapse:collapse;margin:1rem 0}
table.grid th,table.grid td{border:1px solid #ccd;padding:.25rem .6rem;text-align:right}
table.grid th{text-align:left}
table.grid tr.changed th,table.grid tr.changed td{background:#e3f2fd;font-weight:600}
table.grid td.why,table.grid td.text{text-align:left;color:#555}
footer{margin-top:2rem;color:#666;font-size:.85rem}
`;

function tradeRow(t: BacktestTrade): string {
  const f = symbolFormat(t.symbol);
  const cells = [
    minuteUtc(t.time),
    t.symbol,
    t.side,
    fixed(t.baseSize, f.sizeDecimals),
    fixed(t.price, f.priceDecimals),
    usd(t.fee),
    t.exit ?? "",
    t.entryTime ? minuteUtc(t.entryTime) : "",
    t.pnlUsd !== undefined ? signedUsd(t.pnlUsd) : "",
  ];
  return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
}

export function renderReport(r: BacktestResult): string {
  const data = reportData(r);
  const metrics = metricRows(r.strategy, r.buyAndHold);
  const [, strategyReturn, holdReturn] = metrics.find(([name]) => name === "total return") ?? ["", "", ""];
  const table = metrics
    .map(
      ([name, s, h]) =>
        `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(s)}</td><td>${escapeHtml(h)}</td></tr>`,
    )
    .join("\n");
  const tradeRows = r.trades.slice(-500).map(tradeRow).join("\n");
  const inSample = r.window.inSample;
  const banner = inSample
    ? `<div class="in-sample" role="alert" data-in-sample><strong>IN-SAMPLE:</strong> ${escapeHtml(inSample.message.replace(/^IN-SAMPLE: /, ""))}</div>`
    : "";
  const settingRows = r.settings.variables
    .map(
      (v) =>
        `<tr${v.differs ? ' class="changed"' : ""}><th>${v.differs ? "* " : ""}${escapeHtml(v.name)}</th><td>${escapeHtml(formatValue(v.value))}</td><td>${escapeHtml(formatValue(v.default))}</td><td>${escapeHtml(v.source)}</td><td class="why">${escapeHtml(v.noEffect ? `no effect in a replay: ${v.noEffect}` : "")}</td></tr>`,
    )
    .join("\n");
  const window = r.window;
  const windowText = `candle closes in [${window.from}, ${window.to}), ${window.fromChosen === "given" ? "from --from" : `starting at the default (${window.fromChosen})`}; ${window.firstUnseen ? `the model has not seen candles from ${window.firstUnseen} on (its card)` : "no model card: in-sample overlap unknown"}.`;
  const fill = r.settings.fill;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backtest ${escapeHtml(r.span.firstCycle)} .. ${escapeHtml(r.span.lastCycle)}</title>
<style>${STYLE}</style></head><body>
${banner}
<h1>Backtest: ${escapeHtml(r.model.name)} ${escapeHtml(r.model.version)}</h1>
<p data-window>Window: ${escapeHtml(windowText)}</p>
<p>${r.symbols.length} symbols, ${r.span.cycles.toLocaleString("en-US")} hourly cycles from ${escapeHtml(r.span.firstCycle)} to ${escapeHtml(r.span.lastCycle)}; starting equity ${usd(r.settings.startingCashUsd)}; taker fee ${fill.takerFeeBps} bps, slippage ${fill.slippageBps} bps, spread ${fill.spreadBps} bps. Times are UTC.</p>
${r.notes.map((n) => `<p class="note" data-note>${escapeHtml(n)}</p>`).join("\n")}
<h2>Return vs equal-weight buy-and-hold (log scale, %)</h2>
<div id="returns-legend" class="legend">blue: strategy ${escapeHtml(strategyReturn)}, grey: buy &amp; hold ${escapeHtml(holdReturn)}; the axis is the log of equity / starting equity, labelled as the return</div>
<div id="returns" class="chart"></div>
<h2>Drawdown from the running peak (%)</h2>
<div id="drawdown-legend" class="legend">red: strategy, grey: buy &amp; hold</div>
<div id="drawdown" class="chart"></div>
<h2>Price and fills <select id="symbol"></select></h2>
<div id="price-legend" class="legend">${data.symbols.length > 0 ? "green ▲: BUY at its fill price, red ▼: SELL; point at a bar for its fills" : "no fills in this window"}</div>
<div id="price" class="chart"></div>
<h2>Metrics</h2>
<table class="grid" data-metrics><tr><th></th><th>strategy</th><th>buy &amp; hold</th></tr>
${table}
</table>
<p>trade list sha256 <code>${r.tradesSha256}</code></p>
<h2>Settings</h2>
<p>The live functions' variables, read by the same config schema (the environment, then <code>--config</code>, then the flags); <strong>*</strong> marks those that differ from the defaults${r.settings.changed.length === 0 ? " (none: the live defaults)" : ""}.${r.settings.killSwitchResumeAfterHours !== undefined ? ` Operator replayed: <code>--resume-kill-switch-after ${r.settings.killSwitchResumeAfterHours}</code> h.` : ""}</p>
<table class="grid" data-settings><tr><th>variable</th><th>value</th><th>default</th><th>from</th><th></th></tr>
${settingRows}
</table>
<p>Exits: ${escapeHtml(exitsText(r.settings.exits))}.</p>
<h2>Trades (last ${Math.min(500, r.trades.length)} of ${r.trades.length})</h2>
<p>Sizes and prices at the product's increments; fees and P&amp;L in dollars (fees in).</p>
<table class="grid" data-trades><tr><th>time</th><th>symbol</th><th>side</th><th>size</th><th>price</th><th>fee</th><th>exit</th><th>entry</th><th>P&amp;L</th></tr>
${tradeRows}
</table>
<footer>Charts: <a href="https://www.tradingview.com/">TradingView</a> Lightweight Charts™ (Apache-2.0), inlined.</footer>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${chartLibrary()}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
