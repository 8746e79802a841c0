/**
 * The seed system's defaults, each written once. config.ts offers them as the defaults of its
 * environment variables; the steps, the backtest, the local runner, the benchmarks, training and
 * the CDK app read them from here, so changing one here changes it everywhere. Risk limits have
 * their own home with their meaning, DEFAULT_RISK_LIMITS in risk/limits.ts.
 *
 * Plain values only: this module imports nothing but types, so every layer may depend on it.
 */
import type { Granularity } from "./domain/market.js";

/** The signal generator: BUY when P(up) > buy, SELL when P(down) > sell (SIGNAL_*_THRESHOLD). */
export const DEFAULT_DECISION_THRESHOLDS = { buy: 0.5, sell: 0.6 };

/** Candle size of the pipeline (CANDLE_GRANULARITY). */
export const DEFAULT_GRANULARITY: Granularity = "ONE_HOUR";

/** Days a signal stays in its table before DynamoDB's TTL removes it (SIGNAL_TTL_DAYS). */
export const DEFAULT_SIGNAL_TTL_DAYS = 30;

/** The signal bridge (BRIDGE_*, RECOMMENDATION_AMOUNT_USD). */
export const DEFAULT_BRIDGE_SETTINGS = {
  /** signals at or below this confidence make no recommendation */
  minConfidence: 0.6,
  /** USD amount of a recommendation */
  amountUsd: 100,
  /** signals of this many minutes back are read */
  lookbackMinutes: 60,
  /** a PENDING recommendation older than this expires */
  queueWindowMinutes: 120,
  /** recommendations sent to validation per cycle, most confident first */
  maxPerCycle: 3,
};

/** The paper venue and the backtest's fills (PAPER_*); the spread and impact are not configurable. */
export const DEFAULT_PAPER_ACCOUNT = {
  startingCashUsd: 10_000,
  /** bid/ask = last close -/+ half of this */
  spreadBps: 2,
  slippageBps: 5,
  /** bps of market impact per 1% of the candle's base volume taken */
  impactCoefficient: 10,
  takerFeeBps: 60,
  makerFeeBps: 40,
};

/** How far the venue's quote may sit from the last stored close before an order is refused (EXECUTION_PRICE_BAND). */
export const DEFAULT_PRICE_BAND = 0.1;

/** The CloudWatch namespace of every EMF metric (POWERTOOLS_METRICS_NAMESPACE), read by the dashboard. */
export const METRICS_NAMESPACE = "TradingPipeline";

/**
 * Exits (EXIT_*, KILL_SWITCH_*): how a position leaves. R is the entry's stop distance in price.
 * The time limit is the model's label horizon (models/signal-model.card.json label.horizonCandles;
 * a test keeps the two equal).
 */
export const DEFAULT_EXIT_SETTINGS = {
  /** take-profit ladder: sell `share` of the entry quantity when the price reaches entry + atR × R */
  takeProfitLadder: [
    { atR: 1, share: 0.5 },
    { atR: 2, share: 0.5 },
  ] as readonly { atR: number; share: number }[],
  /** the trailing stop starts once the high reaches entry + activationR × R (0 = off) ... */
  trailingActivationR: 1,
  /** ... and trails distanceR × R under the highest high since the entry */
  trailingDistanceR: 1,
  /** candles after the entry at which the position is closed (0 = no time limit) */
  timeLimitCandles: 12,
  /** a SELL signal for a held symbol closes its positions */
  exitOnSellSignal: true,
  /**
   * the protective stop rests on the venue as a stop-limit whose limit sits this fraction under the
   * stop: it fills down to there; a gap below it leaves the stop unfilled and the position manager
   * sells at market
   */
  stopLimitOffset: 0.05,
  /** once an entry fills, its stop rests on the venue, so it holds while the pipeline is down (EXIT_RESTING_STOP) */
  restingStop: true,
  /**
   * failed attempts of one exit (reason and leg) before the position waits for an operator instead
   * of being issued again (EXIT_MAX_ATTEMPTS)
   */
  maxAttempts: 5,
};

/** The kill switch (KILL_SWITCH_*): what a trip does besides refusing new entries. */
export const DEFAULT_KILL_SWITCH_SETTINGS = {
  /** close every position when the kill switch trips */
  flatten: false,
  /** a daily-loss trip lifts itself at the next UTC midnight; a drawdown trip waits for an operator */
  dailyLossResumesNextDay: true,
};
