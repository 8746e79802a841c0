import type { Candle, ManagedPosition, Recommendation, Signal } from "#domain/schemas.js";

export function candle(symbol: string, start: number, close = 100): Candle {
  return {
    symbol,
    granularity: "ONE_HOUR",
    start,
    open: close,
    high: close * 1.01,
    low: close * 0.99,
    close,
    volume: 10,
    source: "replay",
  };
}

export function signal(overrides: Partial<Signal> = {}): Signal {
  const createdAt = overrides.createdAt ?? new Date().toISOString();
  return {
    signalId: `sig-${Math.random().toString(36).slice(2)}`,
    symbol: "BTC-USD",
    granularity: "ONE_HOUR",
    candleStart: 1_719_788_400,
    price: 61_000,
    signalType: "BUY",
    model: "signal-model",
    modelVersion: "test",
    confidence: 0.7,
    threshold: 0.5,
    probabilities: { down: 0.1, hold: 0.2, up: 0.7 },
    regime: "TRENDING_UP",
    featuresUsed: 51,
    keyFeatures: { rsi_14: 55 },
    dataSource: "replay",
    processed: false,
    createdAt,
    expiresAt: Math.floor(Date.parse(createdAt) / 1000) + 86_400,
    ...overrides,
  };
}

export function recommendation(overrides: Partial<Recommendation> = {}): Recommendation {
  const now = overrides.createdAt ?? new Date().toISOString();
  return {
    recommendationId: `rec-${Math.random().toString(36).slice(2)}`,
    signalId: "sig-1",
    symbol: "BTC-USD",
    side: "BUY",
    amountUsd: 100,
    confidence: 0.7,
    reasoning: "model BUY at 0.70",
    status: "PENDING",
    statusReason: "created from signal",
    entryPrice: 61_000,
    createdAt: now,
    updatedAt: now,
    history: [],
    ...overrides,
  };
}

/** An open managed position of 0.002 BTC bought at 60,000 with a 2% stop (R = 1,200). */
export function managedPosition(overrides: Partial<ManagedPosition> = {}): ManagedPosition {
  const openedAt = overrides.openedAt ?? "2024-06-30T12:00:00.000Z";
  return {
    positionId: `rec-${Math.random().toString(36).slice(2)}`,
    symbol: "BTC-USD",
    status: "OPEN",
    entryPrice: 60_000,
    entryQuantity: "0.002",
    quantity: "0.002",
    entryCostUsd: 120.72,
    riskPerUnit: 1200,
    stopLoss: 58_800,
    takeProfits: [
      { price: 61_200, share: 0.5 },
      { price: 62_400, share: 0.5 },
    ],
    targetsHit: 0,
    highWaterMark: 60_000,
    openedAt,
    evaluatedAt: openedAt,
    exits: [],
    realizedPnlUsd: 0,
    version: 0,
    ...overrides,
  };
}
