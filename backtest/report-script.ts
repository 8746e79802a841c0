/**
 * The report page's own script (runs in the browser after the inlined lightweight-charts build): the
 * returns chart on a log axis labelled in %, the drawdowns, and the price chart with the fills of the
 * chosen symbol (log axis as well). Every axis is scaled from the data; the chart library's logo is off (the page links
 * to TradingView in its footer, as the library's licence asks). `window.report` exposes the charts to
 * the browser test.
 */
export const REPORT_SCRIPT = String.raw`
"use strict";
const data = JSON.parse(document.getElementById("report-data").textContent);
const LC = LightweightCharts;

function signedPercent(x, decimals) {
  const text = Math.abs(x).toFixed(decimals);
  if (Number(text) === 0) return (0).toFixed(decimals) + "%";
  return (x > 0 ? "+" : "\u2212") + text + "%";
}
/** the fewest decimals (0..4) that keep every tick label distinct */
function tickDecimals(values) {
  for (let d = 0; d < 4; d++) {
    const labels = values.map((v) => v.toFixed(d));
    if (new Set(labels).size === labels.length) return d;
  }
  return 4;
}
function percentFormat(toPercent) {
  return {
    type: "custom",
    minMove: 0.0001,
    formatter: (v) => signedPercent(toPercent(v), 2),
    tickmarksFormatter: (vs) => {
      const ps = vs.map(toPercent);
      const d = tickDecimals(ps);
      return ps.map((p) => signedPercent(p, d));
    },
  };
}
const utcMinute = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");

function makeChart(id, priceScale) {
  return LC.createChart(document.getElementById(id), {
    autoSize: true,
    layout: { attributionLogo: false, textColor: "#1d2430", fontFamily: "system-ui, sans-serif" },
    rightPriceScale: Object.assign({ scaleMargins: { top: 0.06, bottom: 0.06 }, entireTextOnly: true }, priceScale),
    timeScale: { timeVisible: true, secondsVisible: false, fixLeftEdge: true, fixRightEdge: true },
    localization: { dateFormat: "yyyy-MM-dd", timeFormatter: utcMinute },
    crosshair: { mode: LC.CrosshairMode.Normal },
  });
}
function legend(chart, id, describe) {
  const el = document.getElementById(id);
  const idle = el.textContent;
  chart.subscribeCrosshairMove((p) => {
    el.textContent = p.time === undefined ? idle : utcMinute(p.time) + "  " + describe(p);
  });
}

// returns: growth factors on a log axis, labelled as the return they mean
const growthFormat = percentFormat((g) => (g - 1) * 100);
const returns = makeChart("returns", { mode: LC.PriceScaleMode.Logarithmic });
const strategy = returns.addSeries(LC.LineSeries, { color: "#1e5bd8", lineWidth: 2, title: "strategy", priceFormat: growthFormat });
const hold = returns.addSeries(LC.LineSeries, { color: "#8a8f98", lineWidth: 2, title: "buy & hold", priceFormat: growthFormat });
strategy.setData(data.growth.map((p) => ({ time: p[0], value: p[1] })));
hold.setData(data.growth.map((p) => ({ time: p[0], value: p[2] })));
strategy.createPriceLine({ price: 1, color: "#555", lineWidth: 1, lineStyle: LC.LineStyle.Dashed, axisLabelVisible: false, title: "" });
returns.timeScale().fitContent();
legend(returns, "returns-legend", (p) => {
  const s = p.seriesData.get(strategy);
  const h = p.seriesData.get(hold);
  return "strategy " + (s ? growthFormat.formatter(s.value) : "-") + ", buy & hold " + (h ? growthFormat.formatter(h.value) : "-");
});

// drawdowns in %, 0 at the top
const drawdownFormat = percentFormat((x) => x);
const drawdown = makeChart("drawdown", { scaleMargins: { top: 0.04, bottom: 0.06 } });
const strategyDrawdown = drawdown.addSeries(LC.AreaSeries, {
  lineColor: "#c62828", topColor: "rgba(198,40,40,0.08)", bottomColor: "rgba(198,40,40,0.35)",
  lineWidth: 2, title: "strategy", priceFormat: drawdownFormat, invertFilledArea: true,
});
const holdDrawdown = drawdown.addSeries(LC.LineSeries, { color: "#8a8f98", lineWidth: 1, title: "buy & hold", priceFormat: drawdownFormat });
strategyDrawdown.setData(data.drawdown.map((p) => ({ time: p[0], value: p[1] })));
holdDrawdown.setData(data.drawdown.map((p) => ({ time: p[0], value: p[2] })));
drawdown.timeScale().fitContent();
legend(drawdown, "drawdown-legend", (p) => {
  const s = p.seriesData.get(strategyDrawdown);
  const h = p.seriesData.get(holdDrawdown);
  return "strategy " + (s ? drawdownFormat.formatter(s.value) : "-") + ", buy & hold " + (h ? drawdownFormat.formatter(h.value) : "-");
});

// price and fills of one symbol, on a log axis too: a price that rose 100-fold stays readable, and
// no margin below the lowest close reaches prices at or under 0
const price = makeChart("price", { mode: LC.PriceScaleMode.Logarithmic });
const closes = price.addSeries(LC.LineSeries, { color: "#333", lineWidth: 1, title: "close" });
const fills = LC.createSeriesMarkers(closes, []);
const select = document.getElementById("symbol");
let shown;
for (const s of data.symbols) {
  const o = document.createElement("option");
  o.value = s.id;
  o.textContent = s.id + " (" + s.trades + " fills)";
  select.appendChild(o);
}
function show(id) {
  shown = data.symbols.find((s) => s.id === id);
  if (!shown) return;
  closes.applyOptions({ priceFormat: { type: "price", precision: shown.priceDecimals, minMove: shown.priceStep } });
  closes.setData(shown.prices.map((p) => ({ time: p[0], value: p[1] })));
  fills.setMarkers(shown.markers.map((m) => ({
    time: m.time,
    price: m.price,
    position: m.side === "BUY" ? "atPriceTop" : "atPriceBottom",
    color: m.side === "BUY" ? "#2e7d32" : "#c62828",
    shape: m.side === "BUY" ? "arrowUp" : "arrowDown",
  })));
  price.timeScale().fitContent();
}
legend(price, "price-legend", (p) => {
  const c = p.seriesData.get(closes);
  const here = shown ? shown.markers.filter((m) => m.time === p.time).map((m) => m.text) : [];
  return "close " + (c ? closes.priceFormatter().format(c.value) : "-") + (here.length > 0 ? " | " + here.join(" | ") : "");
});
select.addEventListener("change", () => show(select.value));
if (data.symbols.length > 0) show(data.symbols[0].id);

window.report = {
  data,
  show,
  charts: {
    returns: { chart: returns, series: [strategy, hold] },
    drawdown: { chart: drawdown, series: [strategyDrawdown, holdDrawdown] },
    price: { chart: price, series: [closes], markers: fills },
  },
};
`;
