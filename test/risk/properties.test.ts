/**
 * Property tests: random portfolios, limits and sequences of recommendations. Each approved trade
 * is applied to the portfolio at its entry price (cash down, position up, equity constant), and
 * no approved trade may ever leave a limit broken.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RiskDecision } from "#domain/schemas.js";
import {
  assessRisk,
  DEFAULT_RISK_LIMITS,
  type PortfolioState,
  type RiskLimits,
  volatility14d,
} from "#risk/index.js";
import { DAY, HOUR, NOW } from "./fixtures.js";

const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD"] as const;
/** relative tolerance for float sums of many trades */
const TOLERANCE = 1e-9;

const double = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const mostly = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: rare });

const randomLimits: fc.Arbitrary<RiskLimits> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ ...DEFAULT_RISK_LIMITS }) },
  {
    weight: 2,
    arbitrary: fc.record({
      maxAssetFraction: double(0.01, 0.6),
      maxTotalExposure: double(0.2, 1),
      maxRiskPerTrade: double(0.0002, 0.05),
      maxTradesPerDay: fc.integer({ min: 1, max: 15 }),
      maxDailyLoss: double(0.01, 0.3),
      maxDrawdown: double(0.02, 0.5),
      kellyFraction: double(0.05, 1),
      stopVolMultiple: double(0.5, 4),
      takeProfitRiskReward: double(0.5, 4),
      minOrderUsd: double(0.5, 50),
    }),
  },
);

const closeSeries = fc.oneof(
  fc
    .array(double(-0.25, 0.25), { minLength: 10, maxLength: 25 })
    .filter((returns) => returns.length >= 14 || returns[0] > 0.1)
    .map((returns) => ({ intervalSeconds: DAY, closes: cumulativeCloses(returns) })),
  fc
    .array(double(-0.03, 0.03), { minLength: 330, maxLength: 345 })
    .filter((returns) => returns.length >= 336 || returns[0] > 0.01)
    .map((returns) => ({ intervalSeconds: HOUR, closes: cumulativeCloses(returns) })),
);

function cumulativeCloses(logReturns: number[]): number[] {
  const closes = [100];
  for (const r of logReturns) closes.push(closes[closes.length - 1] * Math.exp(r));
  return closes;
}

const scenario = fc.record({
  limits: randomLimits,
  cashUsd: mostly(double(1_000, 1_000_000), double(0, 100_000)),
  holdings: fc.array(fc.oneof(fc.constant(0), double(0, 20_000), double(0, 200_000)), {
    minLength: 4,
    maxLength: 4,
  }),
  /** when set, cash leaves exactly this much room under the total exposure limit */
  exposureRoomUsd: fc.oneof(fc.constant(null), double(0, 500)),
  prices: fc.array(double(0.001, 100_000), { minLength: 4, maxLength: 4 }),
  // hard stops are generated rarely enough that most sequences reach the sizing limits
  peakAbove: mostly(double(0, 0.01), double(0, 0.4)),
  dayStartChange: mostly(double(-0.2, 0.005), double(-0.2, 0.2)),
  tradesToday: mostly(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 15 })),
  killSwitchActive: mostly(fc.constant(false), fc.constant(true)),
  market: closeSeries,
  recommendations: fc.array(
    fc.record({
      symbolIndex: fc.integer({ min: 0, max: 3 }),
      side: fc.oneof(fc.constant("BUY" as const), fc.constant("BUY" as const), fc.constant("SELL" as const)),
      amountUsd: mostly(double(5, 200_000), double(0.01, 5)),
      confidence: mostly(double(0.35, 1), double(0, 1)),
    }),
    { minLength: 1, maxLength: 30 },
  ),
});

describe("assessRisk properties", () => {
  it("never approves a trade that breaks a limit, never sizes above the request, never refuses without a reason", () => {
    const approvedBy = new Map<string, number>();
    fc.assert(
      fc.property(scenario, (s) => {
        const { limits } = s;
        const positions: PortfolioState["positions"] = {};
        let exposure = 0;
        SYMBOLS.forEach((symbol, i) => {
          if (s.holdings[i] > 0) {
            positions[symbol] = { quantity: s.holdings[i] / s.prices[i], markPrice: s.prices[i] };
            exposure += positions[symbol].quantity * s.prices[i];
          }
        });
        const m = limits.maxTotalExposure;
        const cashUsd = s.exposureRoomUsd === null ? s.cashUsd : (s.exposureRoomUsd + (1 - m) * exposure) / m;
        const equity = cashUsd + exposure;
        fc.pre(equity > 1);
        const portfolio: PortfolioState = {
          equityUsd: equity,
          cashUsd,
          peakEquityUsd: equity * (1 + s.peakAbove),
          dayStartEquityUsd: equity * (1 + s.dayStartChange),
          tradesToday: s.tradesToday,
          positions,
          killSwitchActive: s.killSwitchActive,
        };
        const drawdown = (portfolio.peakEquityUsd - equity) / portfolio.peakEquityUsd;
        const dailyLoss = Math.max(0, (portfolio.dayStartEquityUsd - equity) / portfolio.dayStartEquityUsd);

        for (const [n, r] of s.recommendations.entries()) {
          const symbol = SYMBOLS[r.symbolIndex];
          const price = s.prices[r.symbolIndex];
          const tradesBefore = portfolio.tradesToday;
          const decision = assessRisk(
            {
              recommendation: {
                recommendationId: `rec-${n}`,
                symbol,
                side: r.side,
                amountUsd: r.amountUsd,
                confidence: r.confidence,
                entryPrice: price,
              },
              portfolio,
              recentCloses: s.market.closes,
              closeIntervalSeconds: s.market.intervalSeconds,
              limits,
            },
            NOW,
          );

          expect(RiskDecision.safeParse(decision).success).toBe(true);
          expect(decision.adjustedAmountUsd).toBeLessThanOrEqual(r.amountUsd);
          if (decision.decision === "REFUSE") {
            expect(decision.refusals.length).toBeGreaterThan(0);
            expect(decision.adjustedAmountUsd).toBe(0);
            continue;
          }
          expect(decision.refusals).toEqual([]);
          const amount = decision.adjustedAmountUsd;
          const shape = `${r.side} ${decision.bindingConstraint}`;
          approvedBy.set(shape, (approvedBy.get(shape) ?? 0) + 1);
          expect(amount).toBeGreaterThanOrEqual(limits.minOrderUsd);
          expect(tradesBefore).toBeLessThan(limits.maxTradesPerDay);
          expect(portfolio.killSwitchActive).toBe(false);
          expect(drawdown).toBeLessThan(limits.maxDrawdown);
          expect(dailyLoss).toBeLessThan(limits.maxDailyLoss);
          // a decision exists only with 14 days of history behind it
          expect(() => volatility14d(s.market.closes, s.market.intervalSeconds)).not.toThrow();

          const slack = TOLERANCE * equity;
          const position = positions[symbol] ?? { quantity: 0, markPrice: price };
          if (r.side === "BUY") {
            position.quantity += amount / price;
            positions[symbol] = position;
            portfolio.cashUsd -= amount;
            exposure += amount;
            expect(position.quantity * price).toBeLessThanOrEqual(limits.maxAssetFraction * equity + slack);
            expect(exposure).toBeLessThanOrEqual(limits.maxTotalExposure * equity + slack);
            expect(portfolio.cashUsd).toBeGreaterThanOrEqual((1 - limits.maxTotalExposure) * equity - slack);
            const stopDistance = 1 - decision.stopLoss! / price;
            expect(stopDistance).toBeGreaterThanOrEqual(0.01 - 1e-12);
            expect(stopDistance).toBeLessThanOrEqual(0.2 + 1e-12);
            expect(amount * stopDistance).toBeLessThanOrEqual(limits.maxRiskPerTrade * equity + slack);
          } else {
            expect(amount).toBeLessThanOrEqual(position.quantity * price * (1 + TOLERANCE));
            position.quantity = Math.max(0, position.quantity - amount / price);
            portfolio.cashUsd += amount;
            exposure -= amount;
          }
          portfolio.tradesToday += 1;
        }
      }),
      { numRuns: 400 },
    );
    // the property is not vacuous: trades were approved at every kind of binding limit
    for (const shape of [
      "BUY REQUESTED",
      "BUY KELLY",
      "BUY ASSET_CONCENTRATION",
      "BUY TOTAL_EXPOSURE",
      "BUY RISK_PER_TRADE",
      "SELL POSITION_VALUE",
    ]) {
      expect(approvedBy.get(shape) ?? 0, shape).toBeGreaterThan(0);
    }
  });

  it("shrinks rather than refuses: a BUY refused with history behind it had less than the minimum order of room", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const equity = s.cashUsd;
        fc.pre(equity > 1);
        const portfolio: PortfolioState = {
          equityUsd: equity,
          cashUsd: equity,
          peakEquityUsd: equity,
          dayStartEquityUsd: equity,
          tradesToday: 0,
          positions: {},
          killSwitchActive: false,
        };
        const r = s.recommendations[0];
        const input = {
          recommendation: {
            recommendationId: "rec",
            symbol: "BTC-USD",
            side: "BUY" as const,
            amountUsd: r.amountUsd,
            confidence: r.confidence,
            entryPrice: s.prices[0],
          },
          portfolio,
          recentCloses: s.market.closes,
          closeIntervalSeconds: s.market.intervalSeconds,
          limits: { ...s.limits, maxTradesPerDay: Math.max(1, s.limits.maxTradesPerDay) },
        };
        const decision = assessRisk(input, NOW);
        const missingHistory = decision.refusals.some((refusal) => refusal.reason === "INSUFFICIENT_DATA");
        if (decision.decision === "APPROVE") {
          expect(decision.adjustedAmountUsd).toBe(decision.sizedAmountUsd);
        } else if (!missingHistory) {
          expect(decision.sizedAmountUsd).toBeLessThan(s.limits.minOrderUsd);
        }
      }),
      { numRuns: 300 },
    );
  });
});
