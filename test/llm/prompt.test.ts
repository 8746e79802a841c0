import { describe, expect, it } from "vitest";
import type { Candle } from "#domain/schemas.js";
import {
  buildValidationPrompt,
  CANDLE_SUMMARY_WINDOW,
  PROMPT_VERSION,
  summarizeCandles,
} from "#llm/prompt.js";
import { queuedRecommendation, realBtcCandles, signalFor } from "./fixtures.js";

const candles = realBtcCandles(1000, 30);
const signal = signalFor(candles[candles.length - 1]);
const recommendation = queuedRecommendation(signal, { stopLoss: 41000.123456, amountUsd: 123.456 });

describe("buildValidationPrompt", () => {
  const prompt = buildValidationPrompt({ recommendation, signal, recentCandles: candles });

  it("is deterministic and carries the prompt version", () => {
    const again = buildValidationPrompt({ recommendation, signal, recentCandles: [...candles].reverse() });
    expect(again).toEqual(prompt);
    expect(prompt.promptVersion).toBe(PROMPT_VERSION);
  });

  it("gives the recommendation, the signal and the key features with rounded numbers", () => {
    const u = prompt.user;
    expect(u).toContain("- symbol: BTC-USD");
    expect(u).toContain("- side: BUY");
    expect(u).toContain("- amount_usd: 123.46");
    expect(u).toContain(`- entry_price: ${Number(signal.price.toPrecision(6))}`);
    expect(u).toContain("- stop_loss: 41000.1");
    expect(u).toContain("- model: xgboost-direction version 1.0.0");
    expect(u).toContain("- confidence: 0.634 (threshold 0.500)");
    expect(u).toContain("- probabilities: down 0.120, hold 0.246, up 0.634");
    expect(u).toContain("- regime: TRENDING_UP");
    expect(u).toContain("- rsi_14: 61.23");
    expect(u).toContain("- macd_hist: -12.35");
    expect(u).toContain("- return_1h: 0.001234");
    // features sorted by name, so the prompt does not depend on insertion order
    const order = ["bb_position", "macd_hist", "return_1h", "rsi_14"].map((f) => u.indexOf(`- ${f}:`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(prompt.system).toMatch(/JSON/);
  });

  it("summarizes only the last 24 candles", () => {
    const last24 = candles.slice(-CANDLE_SUMMARY_WINDOW);
    const closes = last24.map((c) => c.close);
    const change = (closes[23] / closes[0] - 1) * 100;
    expect(prompt.user).toContain(`last 24 ONE_HOUR candles`);
    expect(prompt.user).toContain(`- change: ${change > 0 ? "+" : ""}${change.toFixed(2)}%`);
    const high = Math.max(...last24.map((c) => c.high));
    const low = Math.min(...last24.map((c) => c.low));
    expect(prompt.user).toContain(`low ${Number(low.toPrecision(6))}, high ${Number(high.toPrecision(6))}`);
    expect(prompt.user).toContain(
      `last 6 closes, oldest first: ${closes
        .slice(-6)
        .map((c) => Number(c.toPrecision(6)))
        .join(", ")}`,
    );
  });

  it("says so when there are no candles instead of inventing numbers", () => {
    const p = buildValidationPrompt({ recommendation, signal, recentCandles: [] });
    expect(p.user).toContain("Recent price action: no candles available.");
  });

  it("stays compact", () => {
    expect(prompt.system.length + prompt.user.length).toBeLessThan(3_000);
  });
});

describe("summarizeCandles", () => {
  const mk = (start: number, close: number): Candle => ({
    symbol: "BTC-USD",
    granularity: "ONE_HOUR",
    start,
    open: close,
    high: close * 1.01,
    low: close * 0.99,
    close,
    volume: 1,
    source: "replay",
  });

  it("computes change, range and realized volatility of log returns", () => {
    const s = summarizeCandles([mk(0, 100), mk(3600, 110), mk(7200, 99)]);
    expect(s).toBeDefined();
    expect(s?.changePct).toBeCloseTo(-1, 10);
    expect(s?.high).toBeCloseTo(111.1, 10);
    expect(s?.low).toBeCloseTo(98.01, 10);
    expect(s?.rangePct).toBeCloseTo(((111.1 - 98.01) / 99) * 100, 10);
    const r = [Math.log(1.1), Math.log(99 / 110)];
    const mean = (r[0] + r[1]) / 2;
    const sd = Math.sqrt(((r[0] - mean) ** 2 + (r[1] - mean) ** 2) / 1);
    expect(s?.realizedVolPct).toBeCloseTo(sd * 100, 10);
    expect(s?.lastCloses).toEqual([100, 110, 99]);
  });

  it("has no volatility for fewer than three closes and nothing for no candles", () => {
    expect(summarizeCandles([mk(0, 100), mk(3600, 101)])?.realizedVolPct).toBeUndefined();
    expect(summarizeCandles([])).toBeUndefined();
  });
});
