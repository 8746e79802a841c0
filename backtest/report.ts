/**
 * The backtest as one self-contained HTML page: lightweight-charts 5 (standalone build, inlined),
 * equity vs buy-and-hold, drawdown, a price chart with the trades of a chosen symbol, the metric
 * table and the notes (the LLM veto is not applied).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { exitsText, metricRows } from "./format.js";
import type { BacktestResult } from "./run.js";
import { formatValue } from "./settings.js";

const require = createRequire(import.meta.url);

function chartLibrary(): string {
  // the package exports only its ES module entry and package.json; the standalone build sits in dist/
  const dist = join(dirname(require.resolve("lightweight-charts/package.json")), "dist");
  return readFileSync(join(dist, "lightweight-charts.standalone.production.js"), "utf8");
}

/** Longer curves are sampled at the last point of each day so the page stays small. */
const MAX_POINTS = 5_000;

function bucketOf(length: number, times: Float64Array): (i: number) => boolean {
  if (length <= MAX_POINTS) return () => true;
  return (i) => i === length - 1 || Math.floor(times[i] / 86_400) !== Math.floor(times[i + 1] / 86_400);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export function renderReport(r: BacktestResult): string {
  const { cycleTimes, equity, buyAndHold } = r.curves;
  const keep = bucketOf(cycleTimes.length, cycleTimes);
  const equityPoints: [number, number, number, number][] = [];
  let peak = r.settings.startingCashUsd;
  for (let i = 0; i < cycleTimes.length; i++) {
    peak = Math.max(peak, equity[i]);
    if (!keep(i)) continue;
    const dd = peak > 0 ? -((peak - equity[i]) / peak) * 100 : 0;
    equityPoints.push([cycleTimes[i], round(equity[i]), round(buyAndHold[i]), round(dd)]);
  }
  const tradedCount = new Map<string, number>();
  for (const t of r.trades) tradedCount.set(t.symbol, (tradedCount.get(t.symbol) ?? 0) + 1);
  const traded = [...tradedCount.entries()].sort((a, b) => b[1] - a[1]).map(([s]) => s);
  const first = cycleTimes[0] ?? 0;
  const last = cycleTimes[cycleTimes.length - 1] ?? 0;
  const prices: Record<string, [number, number][]> = {};
  const markers: Record<string, { time: number; side: string; text: string }[]> = {};
  for (const symbol of traded) {
    const sym = r.market.find((m) => m.productId === symbol);
    if (!sym) continue;
    const points: [number, number][] = [];
    const daily = sym.length > MAX_POINTS;
    for (let i = 0; i < sym.length; i++) {
      const closeTime = sym.start[i] + 3600;
      if (closeTime < first - 3600 || closeTime > last) continue;
      if (
        daily &&
        i < sym.length - 1 &&
        Math.floor(sym.start[i] / 86_400) === Math.floor(sym.start[i + 1] / 86_400)
      )
        continue;
      points.push([daily ? Math.floor(sym.start[i] / 86_400) * 86_400 : sym.start[i], sym.close[i]]);
    }
    prices[symbol] = points;
    markers[symbol] = r.trades
      .filter((t) => t.symbol === symbol)
      .map((t) => {
        const at = Date.parse(t.time) / 1000 - 60 - 3600;
        return {
          time: daily ? Math.floor(at / 86_400) * 86_400 : at,
          side: t.side,
          text: `${t.side} ${Number(t.baseSize.toPrecision(6))} @ ${Number(t.price.toPrecision(6))}${t.pnlUsd !== undefined ? ` P&L ${t.pnlUsd.toFixed(2)}` : ""}`,
        };
      })
      .sort((a, b) => a.time - b.time);
  }
  const table = metricRows(r.strategy, r.buyAndHold)
    .map(
      ([name, s, h]) =>
        `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(s)}</td><td>${escapeHtml(h)}</td></tr>`,
    )
    .join("\n");
  const tradeRows = r.trades
    .slice(-500)
    .map(
      (t) =>
        `<tr><td>${t.time}</td><td>${t.symbol}</td><td>${t.side}</td><td>${t.baseSize}</td><td>${t.price}</td><td>${t.fee.toFixed(4)}</td><td>${t.entryTime ?? ""}</td><td>${t.pnlUsd?.toFixed(2) ?? ""}</td></tr>`,
    )
    .join("\n");
  const data = { equity: equityPoints, prices, markers, traded };
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
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backtest ${escapeHtml(r.span.firstCycle)} .. ${escapeHtml(r.span.lastCycle)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2430}
.chart{width:100%;height:320px;margin-bottom:1rem}
.note{background:#fff4d6;border-left:4px solid #e0a100;padding:.5rem .8rem;margin:.4rem 0}
.in-sample{background:#b71c1c;color:#fff;font-size:1.15rem;padding:.9rem 1.1rem;margin:.8rem 0;border:3px solid #7f0000}
tr.changed th,tr.changed td{background:#e3f2fd;font-weight:600}td.why{text-align:left;color:#555}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccd;padding:.25rem .6rem;text-align:right}th{text-align:left}
</style></head><body>
${banner}
<h1>Backtest: ${escapeHtml(r.model.name)} ${escapeHtml(r.model.version)}</h1>
<p data-window>Window: ${escapeHtml(windowText)}</p>
<p>${r.symbols.length} symbols, ${r.span.cycles} hourly cycles from ${escapeHtml(r.span.firstCycle)} to ${escapeHtml(r.span.lastCycle)}; starting equity $${r.settings.startingCashUsd}; taker fee ${r.settings.fill.takerFeeBps} bps, slippage ${r.settings.fill.slippageBps} bps, spread ${r.settings.fill.spreadBps} bps.</p>
${r.notes.map((n) => `<p class="note" data-note>${escapeHtml(n)}</p>`).join("\n")}
<h2>Equity vs equal-weight buy-and-hold</h2><div id="equity" class="chart"></div>
<h2>Drawdown (%)</h2><div id="drawdown" class="chart"></div>
<h2>Price and trades <select id="symbol"></select></h2><div id="price" class="chart"></div>
<h2>Metrics</h2>
<table><tr><th></th><th>strategy</th><th>buy &amp; hold</th></tr>
${table}
</table>
<p>trade list sha256 <code>${r.tradesSha256}</code></p>
<h2>Settings</h2>
<p>The live functions' variables, read by the same config schema (the environment, then <code>--config</code>, then the flags); <strong>*</strong> marks those that differ from the defaults${r.settings.changed.length === 0 ? " (none: the live defaults)" : ""}.${r.settings.killSwitchResumeAfterHours !== undefined ? ` Operator replayed: <code>--resume-kill-switch-after ${r.settings.killSwitchResumeAfterHours}</code> h.` : ""}</p>
<table data-settings><tr><th>variable</th><th>value</th><th>default</th><th>from</th><th></th></tr>
${settingRows}
</table>
<p>Exits: ${escapeHtml(exitsText(r.settings.exits))}.</p>
<h2>Trades (last ${Math.min(500, r.trades.length)} of ${r.trades.length})</h2>
<table><tr><th>time</th><th>symbol</th><th>side</th><th>size</th><th>price</th><th>fee</th><th>entry</th><th>P&amp;L</th></tr>
${tradeRows}
</table>
<script>${chartLibrary()}</script>
<script>
const data = ${scriptJson(data)};
const LC = LightweightCharts;
function chart(id) {
  const el = document.getElementById(id);
  return LC.createChart(el, { autoSize: true, timeScale: { timeVisible: true } });
}
const eq = chart("equity");
eq.addSeries(LC.LineSeries, { color: "#2962ff", title: "strategy" }).setData(data.equity.map((p) => ({ time: p[0], value: p[1] })));
eq.addSeries(LC.LineSeries, { color: "#999", title: "buy & hold" }).setData(data.equity.map((p) => ({ time: p[0], value: p[2] })));
eq.timeScale().fitContent();
const dd = chart("drawdown");
dd.addSeries(LC.AreaSeries, { lineColor: "#d32f2f", topColor: "rgba(211,47,47,0.1)", bottomColor: "rgba(211,47,47,0.4)" })
  .setData(data.equity.map((p) => ({ time: p[0], value: p[3] })));
dd.timeScale().fitContent();
const pc = chart("price");
const priceSeries = pc.addSeries(LC.LineSeries, { color: "#333" });
const markerApi = LC.createSeriesMarkers(priceSeries, []);
const select = document.getElementById("symbol");
for (const s of data.traded) { const o = document.createElement("option"); o.value = s; o.textContent = s; select.appendChild(o); }
function show(symbol) {
  priceSeries.setData((data.prices[symbol] || []).map((p) => ({ time: p[0], value: p[1] })));
  markerApi.setMarkers((data.markers[symbol] || []).map((m) => ({
    time: m.time, position: m.side === "BUY" ? "belowBar" : "aboveBar",
    color: m.side === "BUY" ? "#2e7d32" : "#c62828", shape: m.side === "BUY" ? "arrowUp" : "arrowDown", text: m.text,
  })));
  pc.timeScale().fitContent();
}
select.addEventListener("change", () => show(select.value));
if (data.traded.length > 0) show(data.traded[0]);
</script>
</body></html>
`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
