import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type ReportData, reportData } from "#backtest/report-data.js";
import { decimalsOf, fixed, minuteUtc, signedUsd, symbolFormat, usd } from "#backtest/report-format.js";
import { type BacktestResult, backtestCandles } from "#backtest/run.js";
import { APRIL_CANDLES, shippedModel } from "#test/e2e/support.js";
import { REPO_ROOT } from "#test/support/paths.js";

describe("the report's number formats", () => {
  it("reads the decimals of Coinbase increment strings and refuses anything else", () => {
    expect(["0.01", "0.00000001", "1", "0.0100", "10"].map(decimalsOf)).toEqual([2, 8, 0, 2, 0]);
    expect(() => decimalsOf("1e-8")).toThrow(/increment "1e-8" is not a plain decimal string/);
  });

  it("writes money in cents, prices and sizes at the product's increments, times to the minute", () => {
    expect(usd(10136.524999)).toBe("$10,136.52");
    expect(usd(231.17000000000002)).toBe("$231.17");
    expect([signedUsd(15.2), signedUsd(-11.456), signedUsd(0)]).toEqual(["+$15.20", "-$11.46", "$0.00"]);
    expect(symbolFormat("SHIB-USD")).toEqual({ priceDecimals: 8, priceStep: 1e-8, sizeDecimals: 0 });
    expect(symbolFormat("AVAX-USD")).toEqual({ priceDecimals: 2, priceStep: 0.01, sizeDecimals: 8 });
    expect(fixed((0.00002987 * 3) / 3 + 1e-20, 8)).toBe("0.00002987");
    expect(fixed(3879920.9999999995, 0)).toBe("3,879,921");
    expect(minuteUtc("2024-03-17T06:01:00.000Z")).toBe("2024-03-17 06:01");
    expect(() => minuteUtc("yesterday")).toThrow(/time "yesterday" is not an ISO timestamp/);
  });
});

describe("reportData of the April fixture", () => {
  let result: BacktestResult;
  let data: ReportData;
  beforeAll(async () => {
    result = await backtestCandles({
      candlesDir: APRIL_CANDLES,
      modelPath: resolve(REPO_ROOT, "models/signal-model.onnx"),
      model: await shippedModel(),
    });
    data = reportData(result);
  });

  it("plots equity / starting cash for both curves, and drawdowns from each curve's own peak", () => {
    const { cycleTimes, equity, buyAndHold } = result.curves;
    const start = result.settings.startingCashUsd;
    expect(data.growth).toHaveLength(cycleTimes.length);
    let peak = start;
    let holdPeak = start;
    for (let i = 0; i < cycleTimes.length; i++) {
      peak = Math.max(peak, equity[i]);
      holdPeak = Math.max(holdPeak, buyAndHold[i]);
      const [time, strategy, hold] = data.growth[i];
      expect(time).toBe(cycleTimes[i]);
      expect(strategy).toBeCloseTo(equity[i] / start, 6);
      expect(hold).toBeCloseTo(buyAndHold[i] / start, 6);
      expect(data.drawdown[i][1]).toBeCloseTo((equity[i] / peak - 1) * 100, 3);
      expect(data.drawdown[i][2]).toBeCloseTo((buyAndHold[i] / holdPeak - 1) * 100, 3);
    }
    const last = data.growth[data.growth.length - 1];
    expect(last[1] - 1).toBeCloseTo(result.strategy.totalReturn, 6);
    expect(last[2] - 1).toBeCloseTo(result.buyAndHold.totalReturn, 6);
  });

  it("puts each fill on a bar of its symbol's price series, at its fill price rounded to the increment", () => {
    expect(data.symbols.map((s) => s.id).sort()).toEqual(
      [...new Set(result.trades.map((t) => t.symbol))].sort(),
    );
    expect(data.symbols.reduce((n, s) => n + s.markers.length, 0)).toBe(result.trades.length);
    for (const s of data.symbols) {
      const bars = new Set(s.prices.map(([t]) => t));
      const trades = result.trades.filter((t) => t.symbol === s.id);
      for (const m of s.markers) {
        expect(bars.has(m.time), `${s.id} fill at ${m.time} has a bar`).toBe(true);
        expect(Number(m.price.toFixed(s.priceDecimals))).toBe(m.price);
      }
      // the bar a fill sits on is the candle closed one minute before its cycle
      for (const t of trades) {
        const bar = Date.parse(t.time) / 1000 - 60 - 3600;
        expect(s.markers.some((m) => m.time === bar && m.side === t.side)).toBe(true);
      }
    }
  });
});
