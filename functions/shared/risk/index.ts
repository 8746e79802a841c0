export {
  assessRisk,
  MAX_STOP_DISTANCE,
  MIN_STOP_DISTANCE,
  RISK_SCORE_VOLATILITY_CEILING,
  type RiskAssessment,
  type RiskInput,
  type RiskRecommendation,
  type RiskRefusal,
  riskScore,
  type SizingConstraint,
  stopDistanceFor,
} from "./assess-risk.js";
export { RiskInputError } from "./errors.js";
export { kellyCriterion, kellySize, kellyStakeFraction } from "./kelly.js";
export { DEFAULT_RISK_LIMITS, parseRiskLimits, type RiskLimits, RiskLimitsConfig } from "./limits.js";
export {
  dailyLossFraction,
  drawdownFraction,
  grossExposureUsd,
  type PortfolioState,
  type PositionMark,
  portfolioHeat,
  positionValueUsd,
} from "./portfolio.js";
export {
  closesNeededForVolatility,
  dailyVolatilityOrNaN,
  VOLATILITY_WINDOW_DAYS,
  volatility14d,
  volatilityReturnCount,
} from "./volatility.js";
