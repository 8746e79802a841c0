/**
 * Position sizing by a fractional Kelly criterion. The win probability is the model's confidence;
 * the payoff ratio b is take-profit distance / stop distance, which is `takeProfitRiskReward` by
 * construction of the stop and take-profit levels (the stop distance cancels out).
 */
import type { RiskLimits } from "./limits.js";

/** Full Kelly stake f* = p - (1 - p) / b; negative means the bet has no edge. */
export function kellyCriterion(winProbability: number, payoffRatio: number): number {
  return winProbability - (1 - winProbability) / payoffRatio;
}

/**
 * Fraction of equity to stake: kellyFraction × f*, clamped to [0, maxAssetFraction] so a very
 * confident model can never ask for more than one asset may hold.
 */
export function kellyStakeFraction(confidence: number, limits: RiskLimits): number {
  const stake = limits.kellyFraction * kellyCriterion(confidence, limits.takeProfitRiskReward);
  return stake <= 0 ? 0 : Math.min(stake, limits.maxAssetFraction);
}

/** USD amount the fractional Kelly criterion allows for this confidence and equity. */
export function kellySize(confidence: number, equityUsd: number, limits: RiskLimits): number {
  return kellyStakeFraction(confidence, limits) * equityUsd;
}
