/**
 * The April fixture as both parity tests replay it (live-parity: the local pipeline on the local
 * cloud; step-parity: the step replay): the scenario each runs and the fast backtest's settings for it.
 */
import type { BacktestSettings } from "#backtest/engine.js";
import { listMarketFiles, predictMarket } from "#backtest/predictions.js";
import { DEFAULT_FILL_SETTINGS } from "#backtest/run.js";
import { bundledProductRules } from "#coinbase/product-rules.js";
import { DEFAULT_EXITS, type ExitSettings } from "#exits/exit-settings.js";
import { DEFAULT_DECISION_THRESHOLDS, type DecisionThresholds } from "#model/index.js";
import { DEFAULT_RISK_LIMITS, type RiskLimits } from "#risk/index.js";
import { DEFAULT_BRIDGE_SETTINGS } from "#steps/signal-bridge.js";
import { APRIL_CANDLES, APRIL_FROM, APRIL_SYMBOLS, APRIL_TO, shippedModel } from "#test/e2e/support.js";

/** What both sides run with: the limits, and for the exit tests their exit settings, thresholds and window. */
export interface Scenario {
  limits: RiskLimits;
  exits?: ExitSettings;
  thresholds?: DecisionThresholds;
  to?: Date;
  /** EXIT_RESTING_STOP on both sides; default off (the local pipeline's default) */
  restingStops?: boolean;
}

/**
 * Exits at the bid on the April fixture: targets at 0.05R and 0.1R (R is ~14% of the price there),
 * a 4-candle time limit, no trailing stop, SELL signals from P(down) > 0.3, up to the fixture's
 * last candle (closing 18:00, its cycle 18:01).
 */
export const EXITING: Scenario = {
  limits: { ...DEFAULT_RISK_LIMITS, maxTradesPerDay: 100 },
  exits: {
    ...DEFAULT_EXITS,
    takeProfitLadder: [
      { atR: 0.05, share: 0.5 },
      { atR: 0.1, share: 0.5 },
    ],
    trailing: undefined,
    timeLimitCandles: 4,
  },
  thresholds: { buy: DEFAULT_DECISION_THRESHOLDS.buy, sell: 0.3 },
  to: new Date("2024-04-14T18:30:00Z"),
};

/** The shipped model, the fixture's candles scored by it, and the fast backtest's settings for `scenario`. */
export async function aprilFrame(scenario: Scenario) {
  const model = await shippedModel();
  const symbols = await predictMarket(model, listMarketFiles(APRIL_CANDLES, "ONE_HOUR", APRIL_SYMBOLS));
  const settings: BacktestSettings = {
    granularity: "ONE_HOUR",
    intervalSeconds: 3600,
    fromSec: APRIL_FROM.getTime() / 1000,
    toSec: (scenario.to ?? APRIL_TO).getTime() / 1000,
    startingCashUsd: 10_000,
    thresholds: scenario.thresholds ?? DEFAULT_DECISION_THRESHOLDS,
    bridge: DEFAULT_BRIDGE_SETTINGS,
    limits: scenario.limits,
    fill: DEFAULT_FILL_SETTINGS,
    modelVersion: model.version,
    rulesFor: bundledProductRules,
    ...(scenario.exits ? { exits: scenario.exits } : {}),
    restingStops: scenario.restingStops ?? false,
  };
  return { model, symbols, settings };
}
