import { DEFAULT_RISK_LIMITS, type PortfolioState, type RiskInput, type RiskLimits } from "#risk/index.js";

export const DAY = 86_400;
export const HOUR = 3_600;
export const NOW = new Date("2026-03-02T12:00:00.000Z");

/**
 * Closes alternating 100, 100·e^a, 100, ...: every log return is ±a. With an even number n of
 * returns the mean is 0 and the sample stdev per period is a·√(n/(n-1)).
 */
export function alternatingCloses(logStep: number, closeCount: number): number[] {
  return Array.from({ length: closeCount }, (_, i) => 100 * Math.exp(logStep * (i % 2)));
}

/** 15 daily closes (14 returns) whose 14-day volatility is `dailyVolatility`. */
export function dailyClosesWithVolatility(dailyVolatility: number): number[] {
  return alternatingCloses(dailyVolatility * Math.sqrt(13 / 14), 15);
}

export function portfolio(overrides: Partial<PortfolioState> = {}): PortfolioState {
  return {
    equityUsd: 10_000,
    cashUsd: 10_000,
    peakEquityUsd: 10_000,
    dayStartEquityUsd: 10_000,
    tradesToday: 0,
    positions: {},
    killSwitchActive: false,
    ...overrides,
  };
}

/** A $100 BUY of BTC-USD at confidence 0.7 on a $10,000 cash portfolio with 3% daily volatility. */
export function riskInput(
  overrides: {
    portfolio?: Partial<PortfolioState>;
    recommendation?: Partial<RiskInput["recommendation"]>;
    recentCloses?: number[];
    closeIntervalSeconds?: number;
    limits?: Partial<RiskLimits>;
  } = {},
): RiskInput {
  return {
    recommendation: {
      recommendationId: "rec-1",
      symbol: "BTC-USD",
      side: "BUY",
      amountUsd: 100,
      confidence: 0.7,
      entryPrice: 50_000,
      ...overrides.recommendation,
    },
    portfolio: portfolio(overrides.portfolio),
    recentCloses: overrides.recentCloses ?? dailyClosesWithVolatility(0.03),
    closeIntervalSeconds: overrides.closeIntervalSeconds ?? DAY,
    limits: overrides.limits === undefined ? undefined : { ...DEFAULT_RISK_LIMITS, ...overrides.limits },
  };
}
