/**
 * One configuration of a sweep on one window: the replay (runBacktest, the live chain's code) with
 * that configuration's settings, boiled down to the figures a sweep ranks and prints. Workers run
 * this; so can a test, on the main thread, to check a worker's answer.
 */
import { bundledProductRules } from "#coinbase/product-rules.js";
import type { Granularity } from "#domain/schemas.js";
import { type BacktestSettings, type BacktestSymbol, runBacktest, tradesFingerprint } from "./engine.js";
import { performanceOf } from "./metrics.js";
import { type GridValue, sweepSettingsFor } from "./sweep-settings.js";
import type { Window } from "./sweep-windows.js";

/** The market every configuration replays (the same for all). */
export interface SweepMarket {
  symbols: readonly BacktestSymbol[];
  granularity: Granularity;
  intervalSeconds: number;
  /** enters signal and recommendation ids, as in `npm run backtest` */
  modelVersion: string;
}

export const SWEEP_METRICS = ["sharpe", "sortino", "return", "calmar"] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

/** The figures of one replay. */
export interface RunSummary {
  totalReturn: number;
  annualisedReturn: number;
  sharpe: number;
  sortino: number;
  /** annualised return / max drawdown (0 when neither moved) */
  calmar: number;
  maxDrawdown: number;
  trades: number;
  /** SELL legs with a realised P&L */
  closingTrades: number;
  winRate: number;
  profitFactor: number;
  exposureTime: number;
  finalEquityUsd: number;
  /** positions opened, and closed by the end */
  positionsOpened: number;
  positionsClosed: number;
  killSwitchTrips: number;
  cycles: number;
  candleSteps: number;
  /** sha256 of the trade list (the same as `npm run backtest --json` gives for the same settings) */
  tradesSha256: string;
}

export function calmarOf(annualisedReturn: number, maxDrawdown: number): number {
  if (maxDrawdown > 0) return annualisedReturn / maxDrawdown;
  return annualisedReturn > 0 ? Number.POSITIVE_INFINITY : 0;
}

export function metricOf(summary: RunSummary, metric: SweepMetric): number {
  const value =
    metric === "sharpe"
      ? summary.sharpe
      : metric === "sortino"
        ? summary.sortino
        : metric === "return"
          ? summary.totalReturn
          : summary.calmar;
  // a figure that cannot be computed ranks last
  return Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
}

export function settingsOfConfiguration(
  market: SweepMarket,
  assignment: Readonly<Record<string, GridValue>>,
  window: Window,
): BacktestSettings {
  const s = sweepSettingsFor(assignment);
  return {
    granularity: market.granularity,
    intervalSeconds: market.intervalSeconds,
    fromSec: window.fromSec,
    toSec: window.toSec,
    startingCashUsd: s.startingCashUsd,
    thresholds: s.thresholds,
    bridge: s.bridge,
    limits: s.limits,
    fill: s.fill,
    modelVersion: market.modelVersion,
    rulesFor: bundledProductRules,
    exits: s.exits,
    dailyLossResumesNextDay: s.dailyLossResumesNextDay,
  };
}

export async function runConfiguration(
  market: SweepMarket,
  assignment: Readonly<Record<string, GridValue>>,
  window: Window,
): Promise<RunSummary> {
  const settings = settingsOfConfiguration(market, assignment, window);
  const run = await runBacktest(market.symbols, settings);
  const p = performanceOf(
    run.cycleTimes,
    run.equity,
    run.exposure,
    settings.startingCashUsd,
    settings.intervalSeconds,
    run.trades,
  );
  return {
    totalReturn: p.totalReturn,
    annualisedReturn: p.annualisedReturn,
    sharpe: p.sharpe,
    sortino: p.sortino,
    calmar: calmarOf(p.annualisedReturn, p.maxDrawdown),
    maxDrawdown: p.maxDrawdown,
    trades: p.trades,
    closingTrades: p.closedTrades,
    winRate: p.winRate,
    profitFactor: p.profitFactor,
    exposureTime: p.exposureTime,
    finalEquityUsd: p.finalEquityUsd,
    positionsOpened: run.closedPositions.length + run.openManagedPositions,
    positionsClosed: run.closedPositions.length,
    killSwitchTrips: run.killSwitchTrips.length,
    cycles: run.cycleTimes.length,
    candleSteps: run.counts.candleSteps,
    tradesSha256: tradesFingerprint(run.trades),
  };
}
