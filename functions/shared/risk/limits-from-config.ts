import type { Config } from "#config";
import { DEFAULT_RISK_LIMITS, type RiskLimits } from "./limits.js";

/** The risk limits a deployment configured through its environment (README: configuration). */
export function riskLimitsFromConfig(config: Config): RiskLimits {
  return {
    ...DEFAULT_RISK_LIMITS,
    maxAssetFraction: config.RISK_MAX_ASSET_FRACTION,
    maxTotalExposure: config.RISK_MAX_TOTAL_EXPOSURE,
    maxRiskPerTrade: config.RISK_MAX_RISK_PER_TRADE,
    maxTradesPerDay: config.RISK_MAX_TRADES_PER_DAY,
    maxDailyLoss: config.RISK_MAX_DAILY_LOSS,
    maxDrawdown: config.RISK_MAX_DRAWDOWN,
    kellyFraction: config.RISK_KELLY_FRACTION,
  };
}
