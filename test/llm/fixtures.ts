/** A recommendation, its signal and real BTC candles (Binance BTC-USDT 1h, relabelled BTC-USD). */
import { readFileSync } from "node:fs";
import type { Candle, Recommendation, Signal } from "#domain/schemas.js";
import {
  Candle as CandleSchema,
  Recommendation as RecSchema,
  Signal as SignalSchema,
} from "#domain/schemas.js";
import { SHARED_CANDLES } from "#test/support/paths.js";

const CSV = `${SHARED_CANDLES}/BTC-USDT_1h.csv`;

/** `count` consecutive hourly candles starting at row `fromRow` of the real data set. */
export function realBtcCandles(fromRow: number, count: number): Candle[] {
  const rows = readFileSync(CSV, "utf8")
    .trim()
    .split("\n")
    .slice(1 + fromRow, 1 + fromRow + count);
  return rows.map((line) => {
    const [start, open, high, low, close, volume] = line.split(",").map(Number);
    return CandleSchema.parse({
      symbol: "BTC-USD",
      granularity: "ONE_HOUR",
      start,
      open,
      high,
      low,
      close,
      volume,
      source: "replay",
    });
  });
}

export function signalFor(lastCandle: Candle, overrides: Partial<Signal> = {}): Signal {
  return SignalSchema.parse({
    signalId: `sig-BTC-USD-${lastCandle.start}-v1`,
    symbol: "BTC-USD",
    granularity: "ONE_HOUR",
    candleStart: lastCandle.start,
    price: lastCandle.close,
    signalType: "BUY",
    model: "xgboost-direction",
    modelVersion: "1.0.0",
    confidence: 0.6342,
    threshold: 0.5,
    probabilities: { down: 0.1201, hold: 0.2457, up: 0.6342 },
    regime: "TRENDING_UP",
    featuresUsed: 51,
    keyFeatures: { rsi_14: 61.2345678, macd_hist: -12.3456, bb_position: 0.8123, return_1h: 0.0012345 },
    dataSource: "replay",
    processed: true,
    createdAt: new Date((lastCandle.start + 3600) * 1000).toISOString(),
    expiresAt: lastCandle.start + 30 * 86400,
    ...overrides,
  });
}

export function queuedRecommendation(
  signal: Signal,
  overrides: Partial<Recommendation> = {},
): Recommendation {
  const at = signal.createdAt;
  return RecSchema.parse({
    recommendationId: `rec-${signal.signalId}`,
    signalId: signal.signalId,
    symbol: signal.symbol,
    side: "BUY",
    amountUsd: 100,
    confidence: signal.confidence,
    reasoning: "ML BUY signal above threshold",
    status: "QUEUED",
    statusReason: "queued for LLM validation",
    entryPrice: signal.price,
    createdAt: at,
    updatedAt: at,
    history: [{ from: "PENDING", to: "QUEUED", at, reason: "queued for LLM validation" }],
    ...overrides,
  });
}
