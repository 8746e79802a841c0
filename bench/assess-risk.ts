/**
 * Measures assessRisk calls per second the way the backtester drives it: one call per candle of
 * real BTC-USDT history (approved path, then the refusal path that formats its detail text), the closes window passed as a Float64Array view.
 * Run: npx tsx bench/assess-risk.ts [csv]   (default: BTC-USDT 1h from ../shared/data)
 */
import { readFileSync } from "node:fs";
import { assessRisk, closesNeededForVolatility, type PortfolioState, type RiskInput } from "#risk/index.js";

const csvPath = process.argv[2] ?? "../shared/data/candles/BTC-USDT_1h.csv";
const lines = readFileSync(csvPath, "utf8").trim().split("\n").slice(1);
const closes = Float64Array.from(lines, (line) => Number(line.split(",")[4]));

function run(intervalSeconds: number, series: Float64Array, label: string, tradesToday = 3): void {
  const window = closesNeededForVolatility(intervalSeconds);
  const portfolio: PortfolioState = {
    equityUsd: 10_000,
    cashUsd: 9_800,
    peakEquityUsd: 10_500,
    dayStartEquityUsd: 10_050,
    tradesToday,
    positions: { "BTC-USD": { quantity: 0.004, markPrice: 50_000 } },
    killSwitchActive: false,
  };
  const input: RiskInput = {
    recommendation: {
      recommendationId: "bench",
      symbol: "BTC-USD",
      side: "BUY",
      amountUsd: 100,
      confidence: 0.65,
      entryPrice: 50_000,
    },
    portfolio,
    recentCloses: series,
    closeIntervalSeconds: intervalSeconds,
  };
  const now = new Date("2026-01-01T00:00:00Z");
  let approved = 0;
  let calls = 0;
  const started = process.hrtime.bigint();
  for (let pass = 0; pass < 3; pass++) {
    for (let end = window; end <= series.length; end++) {
      input.recentCloses = series.subarray(end - window, end);
      input.recommendation.entryPrice = series[end - 1];
      if (assessRisk(input, now).decision === "APPROVE") approved++;
      calls++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `${label}: ${calls} calls in ${seconds.toFixed(2)}s = ${Math.round(calls / seconds).toLocaleString("en-US")} calls/s (${approved} approved, window ${window} closes)`,
  );
}

run(3_600, closes, "hourly closes");
const daily = closes.filter((_, i) => i % 24 === 23);
run(86_400, daily, "daily closes");
run(3_600, closes, "hourly closes, refused at the daily trade limit", 10);
