/**
 * The trading settings each function derives from its configuration, written once: the handlers
 * (signal-generator, signal-bridge, the paper venue) and the backtest (backtest/settings.ts) call
 * these, so a variable means the same in a deployment and in a replay. The risk limits have theirs
 * beside them (risk/limits-from-config.ts).
 */
import type { Config } from "#config";
import { DEFAULT_BRIDGE_SETTINGS, DEFAULT_PAPER_ACCOUNT } from "#defaults";
import type { PaperSettings } from "#exchange/paper/paper-exchange.js";
import { positionTrackingFrom } from "#exits/exit-config.js";
import type { DecisionThresholds } from "#model/decision.js";
import type { SignalSettings } from "#steps/generate-signals.js";
import type { ReconcileSettings } from "#steps/reconcile-portfolio.js";
import type { BridgeSettings } from "#steps/signal-bridge.js";

/** signal-generator: BUY when P(up) > buy, SELL when P(down) > sell (SIGNAL_*_THRESHOLD). */
export function decisionThresholdsFromConfig(config: Config): DecisionThresholds {
  return { buy: config.SIGNAL_BUY_THRESHOLD, sell: config.SIGNAL_SELL_THRESHOLD };
}

/** signal-generator: its settings but the universe and the data source, which each run resolves. */
export function signalSettingsFromConfig(
  config: Config,
): Pick<SignalSettings, "granularity" | "thresholds" | "ttlDays"> {
  return {
    granularity: config.CANDLE_GRANULARITY,
    thresholds: decisionThresholdsFromConfig(config),
    ttlDays: config.SIGNAL_TTL_DAYS,
  };
}

/** signal-bridge: BRIDGE_* and RECOMMENDATION_AMOUNT_USD. */
export function bridgeSettingsFromConfig(config: Config): BridgeSettings {
  return {
    ...DEFAULT_BRIDGE_SETTINGS,
    minConfidence: config.BRIDGE_MIN_CONFIDENCE,
    amountUsd: config.RECOMMENDATION_AMOUNT_USD,
    lookbackMinutes: config.BRIDGE_LOOKBACK_MINUTES,
    queueWindowMinutes: config.BRIDGE_QUEUE_WINDOW_MINUTES,
    maxPerCycle: config.BRIDGE_MAX_PER_CYCLE,
  };
}

/** The paper venue's account and costs (PAPER_*); the market impact is not configurable. */
export function paperSettingsFromConfig(config: Config): PaperSettings {
  return {
    startingCashUsd: config.PAPER_STARTING_CASH_USD,
    slippageBps: config.PAPER_SLIPPAGE_BPS,
    impactCoefficient: DEFAULT_PAPER_ACCOUNT.impactCoefficient,
    takerFeeBps: config.PAPER_TAKER_FEE_BPS,
    makerFeeBps: config.PAPER_MAKER_FEE_BPS,
  };
}

/** The portfolio step's limits, kill-switch rule and position tracking (quote currency USD). */
export function reconcileSettingsFromConfig(config: Config): ReconcileSettings {
  return {
    maxDailyLoss: config.RISK_MAX_DAILY_LOSS,
    maxDrawdown: config.RISK_MAX_DRAWDOWN,
    dailyLossResumesNextDay: config.KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY,
    positions: positionTrackingFrom(config),
    quoteCurrency: "USD",
  };
}
