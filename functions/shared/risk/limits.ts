/**
 * The limits the risk manager enforces. Every number is configurable; the defaults are the seed
 * system's. Fractions are of current equity unless said otherwise.
 */
import { z } from "zod";

export interface RiskLimits {
  /** largest value one asset may reach, after the trade, as a fraction of equity */
  maxAssetFraction: number;
  /** largest value of all positions, after the trade, as a fraction of equity (1 - cash reserve) */
  maxTotalExposure: number;
  /** largest loss at the stop (amount × stop distance) as a fraction of equity */
  maxRiskPerTrade: number;
  /** trades already made today at or above this count refuse the next one */
  maxTradesPerDay: number;
  /** loss since the day start, as a fraction of day-start equity, at which trading stops */
  maxDailyLoss: number;
  /** fall from peak equity, as a fraction of the peak, at which trading stops */
  maxDrawdown: number;
  /** fractional Kelly multiplier applied to the full Kelly stake */
  kellyFraction: number;
  /** stop distance = stopVolMultiple × daily volatility, clamped to [1%, 20%] */
  stopVolMultiple: number;
  /** take-profit distance / stop distance; also the Kelly payoff ratio b */
  takeProfitRiskReward: number;
  /** smallest order worth placing, USD; a trade shrunk below this is refused instead */
  minOrderUsd: number;
}

export const DEFAULT_RISK_LIMITS: Readonly<RiskLimits> = Object.freeze({
  maxAssetFraction: 0.05,
  maxTotalExposure: 0.8,
  maxRiskPerTrade: 0.03,
  maxTradesPerDay: 10,
  maxDailyLoss: 0.05,
  maxDrawdown: 0.15,
  kellyFraction: 0.25,
  stopVolMultiple: 2,
  takeProfitRiskReward: 2,
  minOrderUsd: 1,
});

const Fraction = z.number().gt(0).max(1);

/** For configuration boundaries (environment, SSM): any field left out takes its default. */
export const RiskLimitsConfig = z.object({
  maxAssetFraction: Fraction.default(DEFAULT_RISK_LIMITS.maxAssetFraction),
  maxTotalExposure: Fraction.default(DEFAULT_RISK_LIMITS.maxTotalExposure),
  maxRiskPerTrade: Fraction.default(DEFAULT_RISK_LIMITS.maxRiskPerTrade),
  maxTradesPerDay: z.number().int().nonnegative().default(DEFAULT_RISK_LIMITS.maxTradesPerDay),
  maxDailyLoss: Fraction.default(DEFAULT_RISK_LIMITS.maxDailyLoss),
  maxDrawdown: Fraction.default(DEFAULT_RISK_LIMITS.maxDrawdown),
  kellyFraction: z.number().gt(0).max(1).default(DEFAULT_RISK_LIMITS.kellyFraction),
  stopVolMultiple: z.number().positive().finite().default(DEFAULT_RISK_LIMITS.stopVolMultiple),
  takeProfitRiskReward: z.number().positive().finite().default(DEFAULT_RISK_LIMITS.takeProfitRiskReward),
  minOrderUsd: z.number().positive().finite().default(DEFAULT_RISK_LIMITS.minOrderUsd),
});

/** Parses a partial configuration into complete limits; throws a zod error naming the bad field. */
export function parseRiskLimits(config: unknown): RiskLimits {
  return RiskLimitsConfig.parse(config ?? {});
}
