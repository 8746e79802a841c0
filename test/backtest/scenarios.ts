/** Small synthetic markets with an injected prediction series, for hand-checked backtests. */
import type { BacktestSettings, BacktestSymbol } from "#backtest/engine.js";
import { bundledProductRules } from "#coinbase/product-rules.js";
import { DEFAULT_DECISION_THRESHOLDS } from "#model/index.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { DEFAULT_BRIDGE_SETTINGS } from "#steps/signal-bridge.js";

export const T0 = Date.UTC(2024, 0, 1) / 1000;
export const HOUR = 3600;
export const ROWS = 900;

/**
 * BTC-USD candles with these closes and a HOLD everywhere but the given rows. Each candle opens at
 * the previous close and its high / low are the larger / smaller of open and close, unless `wick`
 * gives others for a row (an open below the previous close is a gap).
 */
export function market(
  closeAt: (row: number) => number,
  signals: Record<number, "BUY" | "SELL">,
  volume = 1e12,
  wick: (row: number) => { open?: number; high?: number; low?: number } | undefined = () => undefined,
): BacktestSymbol {
  const start = new Float64Array(ROWS);
  const close = new Float64Array(ROWS);
  const open = new Float64Array(ROWS);
  const high = new Float64Array(ROWS);
  const low = new Float64Array(ROWS);
  const vol = new Float64Array(ROWS).fill(volume);
  const probabilities = new Float32Array(ROWS * 3);
  for (let i = 0; i < ROWS; i++) {
    start[i] = T0 + i * HOUR;
    close[i] = closeAt(i);
    const w = wick(i);
    open[i] = w?.open ?? (i === 0 ? close[i] : close[i - 1]);
    high[i] = w?.high ?? Math.max(open[i], close[i]);
    low[i] = w?.low ?? Math.min(open[i], close[i]);
    const side = signals[i];
    probabilities.set(
      side === "BUY" ? [0.1, 0.2, 0.7] : side === "SELL" ? [0.7, 0.2, 0.1] : [0.1, 0.8, 0.1],
      i * 3,
    );
  }
  return { productId: "BTC-USD", start, open, high, low, close, volume: vol, length: ROWS, probabilities };
}

/** Cycles from the close of row 500 to the close of the last row; no market impact (hand-checkable). */
export function settings(overrides: Partial<BacktestSettings> = {}): BacktestSettings {
  return {
    granularity: "ONE_HOUR",
    intervalSeconds: HOUR,
    fromSec: T0 + 501 * HOUR,
    toSec: T0 + (ROWS + 1) * HOUR,
    startingCashUsd: 10_000,
    thresholds: DEFAULT_DECISION_THRESHOLDS,
    bridge: DEFAULT_BRIDGE_SETTINGS,
    limits: DEFAULT_RISK_LIMITS,
    fill: { spreadBps: 2, slippageBps: 5, impactCoefficient: 0, takerFeeBps: 60 },
    modelVersion: "test",
    rulesFor: bundledProductRules,
    ...overrides,
  };
}

/** The cycle (ISO) that acts on the candle of `row`: one minute after it closed. */
export function cycleOf(row: number): string {
  return new Date((T0 + (row + 1) * HOUR + 60) * 1000).toISOString();
}

const floorTo = (x: number, inc: number) => Math.floor(x / inc + 1e-9) * inc;
const ceilTo = (x: number, inc: number) => Math.ceil(x / inc - 1e-9) * inc;

/**
 * BTC-USD by hand: ask/bid = close ± 1 bp, 5 bps slippage against the taker, price onto the 0.01
 * grid, base onto 1e-8, fee 60 bps of value. A $100 BUY spends 100 including the fee; a $100 SELL
 * sells min(100 / the signal's close, held): the risk decision fixes the base size, not the bid.
 */
export function handBuy(close: number, quote = 100) {
  const price = ceilTo(close * 1.0001 * 1.0005, 0.01);
  const base = floorTo(quote / 1.006 / price, 1e-8);
  const value = base * price;
  return { price, base, fee: value * 0.006, spent: value * 1.006 };
}

export function handSell(close: number, held: number, amountUsd = 100) {
  const base = Math.min(floorTo(amountUsd / close, 1e-8), held);
  const price = floorTo(close * 0.9999 * 0.9995, 0.01);
  const value = base * price;
  return { price, base, fee: value * 0.006, received: value * 0.994 };
}

/** The best bid the paper venue quotes on a close: 1 bp under it, floored onto the 0.01 grid. */
export function bidOf(close: number) {
  return floorTo(close * 0.9999, 0.01);
}

/**
 * A resting stop-limit SELL crossed by a candle's low, as the paper venue fills it: at the stop put
 * on the 0.01 grid (up, like a SELL's limit), or at the open through a gap, taker fee, no slippage.
 */
export function handStop(stopLevel: number, held: number, open = Number.POSITIVE_INFINITY) {
  const price = Math.min(ceilTo(stopLevel, 0.01), floorTo(open, 0.01));
  const base = held;
  const value = base * price;
  return { price, base, fee: value * 0.006, received: value * 0.994 };
}
