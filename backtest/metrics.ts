/**
 * Performance figures of an equity curve sampled once per cycle (hourly for 1h candles). Sharpe and
 * Sortino use the per-cycle simple returns, a zero risk-free rate, and are annualised with
 * sqrt(cycles per year) (sqrt(24 x 365) for hourly cycles).
 */

import type { ProductRules } from "#exchange/exchange.js";
import { marketFillNumbers } from "#exchange/fill-model.js";
import { floorToIncrement } from "#exchange/order-math.js";
import type { BacktestRun, BacktestSymbol, BacktestTrade, FillSettings } from "./engine.js";

const YEAR_SECONDS = 365 * 86_400;

export interface PerformanceMetrics {
  startEquityUsd: number;
  finalEquityUsd: number;
  totalReturn: number;
  annualisedReturn: number;
  sharpe: number;
  sortino: number;
  /** how the ratios were annualised */
  annualisation: string;
  maxDrawdown: number;
  maxDrawdownPeakAt?: string;
  maxDrawdownTroughAt?: string;
  /** share of cycles with any position held */
  exposureTime: number;
  trades: number;
  /** closing (SELL) trades with a realised P&L */
  closedTrades: number;
  winRate: number;
  profitFactor: number;
  feesUsd: number;
  slippageUsd: number;
}

export function performanceOf(
  cycleTimes: Float64Array,
  equity: Float64Array,
  exposure: Float64Array,
  startEquityUsd: number,
  intervalSeconds: number,
  trades: readonly BacktestTrade[],
): PerformanceMetrics {
  const n = equity.length;
  const final = n > 0 ? equity[n - 1] : startEquityUsd;
  const perYear = YEAR_SECONDS / intervalSeconds;
  let sum = 0;
  let sumSq = 0;
  let downSq = 0;
  let previous = startEquityUsd;
  let peak = startEquityUsd;
  let peakIndex = -1;
  let maxDd = 0;
  let ddPeak = -1;
  let ddTrough = -1;
  let exposed = 0;
  for (let i = 0; i < n; i++) {
    const r = equity[i] / previous - 1;
    sum += r;
    sumSq += r * r;
    if (r < 0) downSq += r * r;
    previous = equity[i];
    if (equity[i] > peak) {
      peak = equity[i];
      peakIndex = i;
    }
    const dd = (peak - equity[i]) / peak;
    if (dd > maxDd) {
      maxDd = dd;
      ddPeak = peakIndex;
      ddTrough = i;
    }
    if (exposure[i] >= DUST_USD) exposed++;
  }
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 1 ? (sumSq - n * mean * mean) / (n - 1) : 0;
  const sd = Math.sqrt(Math.max(0, variance));
  const downside = n > 0 ? Math.sqrt(downSq / n) : 0;
  const years = n > 0 ? (n * intervalSeconds) / YEAR_SECONDS : 0;
  const iso = (i: number) =>
    i < 0
      ? new Date((cycleTimes[0] - intervalSeconds) * 1000).toISOString()
      : new Date(cycleTimes[i] * 1000).toISOString();
  let wins = 0;
  let closed = 0;
  let grossWin = 0;
  let grossLoss = 0;
  let fees = 0;
  let slippage = 0;
  for (const t of trades) {
    fees += t.fee;
    slippage += t.slippageUsd;
    if (t.pnlUsd === undefined) continue;
    closed++;
    if (t.pnlUsd > 0) {
      wins++;
      grossWin += t.pnlUsd;
    } else grossLoss -= t.pnlUsd;
  }
  return {
    startEquityUsd,
    finalEquityUsd: final,
    totalReturn: final / startEquityUsd - 1,
    annualisedReturn: years > 0 && final > 0 ? (final / startEquityUsd) ** (1 / years) - 1 : 0,
    sharpe: sd > 0 ? (mean / sd) * Math.sqrt(perYear) : 0,
    sortino: downside > 0 ? (mean / downside) * Math.sqrt(perYear) : 0,
    annualisation: `per-cycle returns x sqrt(${Math.round(perYear)}) (sqrt(24 x 365) for 1h), risk-free rate 0`,
    maxDrawdown: maxDd,
    ...(ddTrough >= 0 ? { maxDrawdownPeakAt: iso(ddPeak), maxDrawdownTroughAt: iso(ddTrough) } : {}),
    exposureTime: n > 0 ? exposed / n : 0,
    trades: trades.length,
    closedTrades: closed,
    winRate: closed > 0 ? wins / closed : 0,
    profitFactor: grossLoss > 0 ? grossWin / grossLoss : grossWin > 0 ? Number.POSITIVE_INFINITY : 0,
    feesUsd: fees,
    slippageUsd: slippage,
  };
}

/**
 * Positions worth less than this do not count as exposure: the dust that flooring sales to the
 * base increment leaves behind (a few cents) would otherwise make every cycle exposed.
 */
export const DUST_USD = 1;

export interface BuyAndHold {
  equity: Float64Array;
  exposure: Float64Array;
  trades: BacktestTrade[];
}

/**
 * Equal weight of the same symbols over the same cycles: each symbol's sleeve (start equity / N)
 * is bought with one market order, on the same fill model and fees, at the first cycle that has a
 * closed candle of it, and held to the end; a sleeve waits in cash until then.
 */
export function buyAndHold(
  symbols: readonly BacktestSymbol[],
  cycleTimes: Float64Array,
  intervalSeconds: number,
  startingCashUsd: number,
  fill: FillSettings,
  rulesFor: (productId: string) => ProductRules,
): BuyAndHold {
  const n = symbols.length;
  const sleeve = startingCashUsd / n;
  const next = new Int32Array(n);
  const quantity = new Float64Array(n);
  const bought = new Uint8Array(n);
  const equity = new Float64Array(cycleTimes.length);
  const exposure = new Float64Array(cycleTimes.length);
  const trades: BacktestTrade[] = [];
  let cash = startingCashUsd;
  const half = fill.spreadBps / 2 / 10_000;
  for (let c = 0; c < cycleTimes.length; c++) {
    const nowSec = cycleTimes[c];
    let value = 0;
    for (let s = 0; s < n; s++) {
      const sym = symbols[s];
      let i = next[s];
      while (i < sym.length && sym.start[i] + intervalSeconds <= nowSec) i++;
      next[s] = i;
      if (i === 0) continue;
      const close = sym.close[i - 1];
      if (!bought[s]) {
        bought[s] = 1;
        const rules = rulesFor(sym.productId);
        const quoteSize = floorToIncrement(String(sleeve), rules.quoteIncrement);
        const f = marketFillNumbers({
          side: "BUY",
          quoteSize,
          referencePrice: close * (1 + half),
          candleVolumeBase: sym.volume[i - 1],
          slippageBps: fill.slippageBps,
          impactCoefficient: fill.impactCoefficient,
          ...(fill.maxImpactBps !== undefined ? { maxImpactBps: fill.maxImpactBps } : {}),
          takerFeeBps: fill.takerFeeBps,
          rules,
        });
        quantity[s] = f.baseSize;
        cash -= f.totalQuote;
        trades.push({
          recommendationId: `buy-and-hold-${sym.productId}`,
          symbol: sym.productId,
          side: "BUY",
          time: new Date(nowSec * 1000).toISOString(),
          quoteSize,
          baseSize: f.baseSize,
          price: f.averagePrice,
          referenceClose: close,
          quoteValue: f.quoteValue,
          fee: f.fee,
          slippageUsd: Math.abs(f.averagePrice - close) * f.baseSize,
          confidence: 1,
        });
      }
      value += quantity[s] * close;
    }
    equity[c] = cash + value;
    exposure[c] = value;
  }
  return { equity, exposure, trades };
}

/** The positions the exit policy opened and closed: what the "closing trades" are about. */
export interface PositionStats {
  /** entries filled (each opens a position) */
  opened: number;
  closed: number;
  /** closed / opened (1 when nothing opened) */
  closedShare: number;
  /** positions still open at the end */
  open: number;
  /** over closed positions: P&L > 0 (every exit leg, fees in) */
  winRate: number;
  /** gross win / gross loss over closed positions */
  profitFactor: number;
  averageHoldingHours: number;
  /** closing legs by exit label (TAKE_PROFIT_1, STOP_LOSS, ...) */
  exits: Record<string, number>;
}

export function positionStats(
  run: Pick<BacktestRun, "trades" | "closedPositions" | "openManagedPositions" | "counts">,
): PositionStats {
  const opened = run.trades.filter((t) => t.side === "BUY").length;
  const closed = run.closedPositions;
  let wins = 0;
  let grossWin = 0;
  let grossLoss = 0;
  let heldMs = 0;
  for (const p of closed) {
    if (p.pnlUsd > 0) {
      wins++;
      grossWin += p.pnlUsd;
    } else grossLoss -= p.pnlUsd;
    heldMs += Date.parse(p.closedAt) - Date.parse(p.openedAt);
  }
  return {
    opened,
    closed: closed.length,
    closedShare: opened > 0 ? closed.length / opened : 1,
    open: run.openManagedPositions,
    winRate: closed.length > 0 ? wins / closed.length : 0,
    profitFactor: grossLoss > 0 ? grossWin / grossLoss : grossWin > 0 ? Number.POSITIVE_INFINITY : 0,
    averageHoldingHours: closed.length > 0 ? heldMs / closed.length / 3_600_000 : 0,
    exits: run.counts.exits,
  };
}
