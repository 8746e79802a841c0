/**
 * One test per limit: the input breaks exactly that limit and is refused with exactly that
 * reason; the same input just inside the limit is approved.
 */
import { describe, expect, it } from "vitest";
import { RiskDecision } from "#domain/schemas.js";
import { assessRisk, type RiskAssessment, type RiskInput } from "#risk/index.js";
import { alternatingCloses, dailyClosesWithVolatility, HOUR, NOW, riskInput } from "./fixtures.js";

function assess(input: RiskInput): RiskAssessment {
  const decision = assessRisk(input, NOW);
  expect(RiskDecision.safeParse(decision).success).toBe(true);
  return decision;
}

function expectRefusedOnlyFor(decision: RiskAssessment, reason: string): void {
  expect(decision.decision).toBe("REFUSE");
  expect(decision.refusals.map((r) => r.reason)).toEqual([reason]);
  expect(decision.adjustedAmountUsd).toBe(0);
}

function expectApproved(decision: RiskAssessment, amountUsd: number): void {
  expect(decision.refusals).toEqual([]);
  expect(decision.decision).toBe("APPROVE");
  expect(decision.adjustedAmountUsd).toBeCloseTo(amountUsd, 9);
}

/** `count` positions of `valueEach` dollars each (quantity at a $1 mark, exact in binary). */
function positionsWorth(count: number, valueEach: number) {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`ASSET${i}-USD`, { quantity: valueEach, markPrice: 1 }]),
  );
}

describe("hard stops", () => {
  it("KILL_SWITCH_ACTIVE: refuses while the kill switch is on", () => {
    const on = assess(riskInput({ portfolio: { killSwitchActive: true } }));
    expectRefusedOnlyFor(on, "KILL_SWITCH_ACTIVE");
    expectApproved(assess(riskInput({ portfolio: { killSwitchActive: false } })), 100);
  });

  it("DAILY_TRADE_LIMIT: the 11th trade of the day is refused, the 10th approved", () => {
    const eleventh = assess(riskInput({ portfolio: { tradesToday: 10 } }));
    expectRefusedOnlyFor(eleventh, "DAILY_TRADE_LIMIT");
    expect(eleventh.refusals[0].detail).toContain("10 trades today");
    expectApproved(assess(riskInput({ portfolio: { tradesToday: 9 } })), 100);
  });

  it("DAILY_LOSS_LIMIT: a 5% loss since the day start stops trading, 4.9999% does not", () => {
    const down5 = assess(riskInput({ portfolio: { equityUsd: 9_500, cashUsd: 9_500 } }));
    expectRefusedOnlyFor(down5, "DAILY_LOSS_LIMIT");
    expect(down5.refusals[0].detail).toContain("5.00%");
    expect(down5.refusals[0].detail).toContain("$9500.00");
    expectApproved(assess(riskInput({ portfolio: { equityUsd: 9_500.01, cashUsd: 9_500.01 } })), 100);
  });

  it("MAX_DRAWDOWN: 15% below the peak stops trading, just above does not", () => {
    const flatDay = { peakEquityUsd: 10_000, dayStartEquityUsd: 8_500 };
    const down15 = assess(riskInput({ portfolio: { ...flatDay, equityUsd: 8_500, cashUsd: 8_500 } }));
    expectRefusedOnlyFor(down15, "MAX_DRAWDOWN");
    expect(down15.refusals[0].detail).toContain("15.00%");
    expectApproved(
      assess(
        riskInput({
          portfolio: { ...flatDay, equityUsd: 8_500.01, cashUsd: 8_500.01, dayStartEquityUsd: 8_500.01 },
        }),
      ),
      100,
    );
  });

  it("INSUFFICIENT_DATA: 13 days of daily closes are refused, 14 days approved", () => {
    const short = assess(riskInput({ recentCloses: alternatingCloses(0.02, 14) }));
    expectRefusedOnlyFor(short, "INSUFFICIENT_DATA");
    expect(short.refusals[0].detail).toContain("15 are needed");
    expect(short.stopLoss).toBeUndefined();
    expectApproved(assess(riskInput({ recentCloses: alternatingCloses(0.02, 15) })), 100);
  });

  it("INSUFFICIENT_DATA: 336 hourly closes are refused, 337 approved", () => {
    const hourly = { closeIntervalSeconds: HOUR };
    expectRefusedOnlyFor(
      assess(riskInput({ ...hourly, recentCloses: alternatingCloses(0.005, 336) })),
      "INSUFFICIENT_DATA",
    );
    expectApproved(assess(riskInput({ ...hourly, recentCloses: alternatingCloses(0.005, 337) })), 100);
  });

  it("INSUFFICIENT_DATA: a broken close in the window is refused, not guessed around", () => {
    const closes = alternatingCloses(0.02, 15);
    closes[3] = Number.NaN;
    const decision = assess(riskInput({ recentCloses: closes }));
    expectRefusedOnlyFor(decision, "INSUFFICIENT_DATA");
    expect(decision.refusals[0].detail).toContain("not a positive finite number");
  });
});

describe("sizing limits: shrink to fit, refuse when less than the minimum order is left", () => {
  it("ASSET_CONCENTRATION: $499.50 already held leaves $0.50 under 5%; $499 leaves exactly $1", () => {
    const holding = (value: number) => ({
      cashUsd: 10_000 - value,
      positions: { "BTC-USD": { quantity: value / 2, markPrice: 2 } },
    });
    const full = assess(riskInput({ portfolio: holding(499.5) }));
    expectRefusedOnlyFor(full, "ASSET_CONCENTRATION");
    expect(full.refusals[0].detail).toContain("$499.50");
    expect(full.refusals[0].detail).toContain("leaves $0.50");
    const room = assess(riskInput({ portfolio: holding(499) }));
    expectApproved(room, 1);
    expect(room.bindingConstraint).toBe("ASSET_CONCENTRATION");
    const shrunk = assess(riskInput({ portfolio: holding(450) }));
    expectApproved(shrunk, 50);
    expect(shrunk.bindingConstraint).toBe("ASSET_CONCENTRATION");
  });

  it("TOTAL_EXPOSURE: 79.995% in other assets leaves $0.50 under 80%; 79.99% leaves $1", () => {
    // 16 positions of $499.96875 = $7,999.50, each under the 5% asset limit
    const full = assess(
      riskInput({ portfolio: { cashUsd: 2_000.5, positions: positionsWorth(16, 499.96875) } }),
    );
    expectRefusedOnlyFor(full, "TOTAL_EXPOSURE");
    expect(full.refusals[0].detail).toContain("$7999.50");
    expect(full.refusals[0].detail).toContain("leaves $0.50");
    const room = assess(
      riskInput({ portfolio: { cashUsd: 2_001, positions: positionsWorth(16, 499.9375) } }),
    );
    expectApproved(room, 1);
    expect(room.bindingConstraint).toBe("TOTAL_EXPOSURE");
  });

  it("TOTAL_EXPOSURE: the cash reserve binds when cash is short of what equity implies", () => {
    // equity counts $2,050 of pending value the cash cannot pay for: cash - 20% reserve = $50
    const decision = assess(riskInput({ portfolio: { cashUsd: 2_050 } }));
    expectApproved(decision, 50);
    expect(decision.bindingConstraint).toBe("TOTAL_EXPOSURE");
    expectRefusedOnlyFor(assess(riskInput({ portfolio: { cashUsd: 2_000.5 } })), "TOTAL_EXPOSURE");
  });

  it("RISK_PER_TRADE: a 20% stop allows $20 under a $4 risk budget (minimum $25); a 15% stop allows $26.67", () => {
    // With the default limits the 5% asset cap binds first (5% × 20% stop = 1% < 3%), so the
    // risk limit is tightened here to make it the binding one.
    const limits = { maxRiskPerTrade: 0.0004, minOrderUsd: 25 };
    const wide = assess(riskInput({ limits, recentCloses: dailyClosesWithVolatility(0.3) }));
    expect(wide.stopDistance).toBe(0.2);
    expectRefusedOnlyFor(wide, "RISK_PER_TRADE");
    expect(wide.refusals[0].detail).toContain("allow at most $20.00");
    const narrower = assess(riskInput({ limits, recentCloses: dailyClosesWithVolatility(0.075) }));
    expect(narrower.stopDistance).toBeCloseTo(0.15, 12);
    expectApproved(narrower, 4 / 0.15);
    expect(narrower.bindingConstraint).toBe("RISK_PER_TRADE");
    expect(narrower.adjustedAmountUsd * narrower.stopDistance).toBeLessThanOrEqual(4 + 1e-9);
  });

  it("DRAWDOWN_BUDGET: open risk to the stops plus the new trade's stop and costs stay above the drawdown floor", () => {
    // 3% daily volatility: a 6% stop. Peak 10,000, floor 8,500 (15%); equity 9,000 with 480 at risk
    // to the open stops leaves 20; at 6% + 2% costs a dollar risks 0.08: at most $250, then $12.50
    const budget = (openRiskUsd: number) =>
      assess({
        ...riskInput({
          portfolio: { equityUsd: 9_000, cashUsd: 9_000, dayStartEquityUsd: 9_000, openRiskUsd },
        }),
        roundTripCost: 0.02,
      });
    expectApproved(budget(480), 100);
    const tight = budget(499);
    expect(tight.bindingConstraint).toBe("DRAWDOWN_BUDGET");
    expectApproved(tight, 1 / 0.08);
    expectRefusedOnlyFor(budget(499.95), "DRAWDOWN_BUDGET");
    expect(budget(499.95).refusals[0].detail).toContain("drawdown floor $8500.00");
    // without openRiskUsd (a caller that does not track the stops) only the drawdown taken counts
    expectApproved(
      assess(riskInput({ portfolio: { equityUsd: 9_000, cashUsd: 9_000, dayStartEquityUsd: 9_000 } })),
      100,
    );
  });

  it("SIZE_BELOW_MINIMUM: a $0.99 request is refused, $1 approved", () => {
    expectRefusedOnlyFor(assess(riskInput({ recommendation: { amountUsd: 0.99 } })), "SIZE_BELOW_MINIMUM");
    expectApproved(assess(riskInput({ recommendation: { amountUsd: 1 } })), 1);
  });

  it("SIZE_BELOW_MINIMUM: confidence 1/3 has no Kelly edge at b=2 and is refused; 0.34 stakes $25", () => {
    const noEdge = assess(riskInput({ recommendation: { confidence: 1 / 3 } }));
    expectRefusedOnlyFor(noEdge, "SIZE_BELOW_MINIMUM");
    expect(noEdge.refusals[0].detail).toContain("Kelly");
    const edge = assess(riskInput({ recommendation: { confidence: 0.34 } }));
    // f* = 0.34 - 0.66/2 = 0.01; × 0.25 = 0.0025 of $10,000
    expectApproved(edge, 25);
    expect(edge.bindingConstraint).toBe("KELLY");
  });
});

describe("SELL (spot, no shorting)", () => {
  const sell = { side: "SELL" as const };

  it("NO_POSITION_TO_SELL: nothing held is refused; a holding is sold, capped at its value", () => {
    expectRefusedOnlyFor(assess(riskInput({ recommendation: sell })), "NO_POSITION_TO_SELL");
    const held = assess(
      riskInput({
        recommendation: sell,
        portfolio: { cashUsd: 9_950, positions: { "BTC-USD": { quantity: 0.001, markPrice: 50_000 } } },
      }),
    );
    expectApproved(held, 50);
    expect(held.bindingConstraint).toBe("POSITION_VALUE");
    expect(held.amountCrypto).toBeCloseTo(0.001, 12);
  });

  it("is not blocked by concentration or exposure, but is by the kill switch and the daily limits", () => {
    const overweight = { cashUsd: 1_000, positions: { "BTC-USD": { quantity: 0.18, markPrice: 50_000 } } };
    expectApproved(assess(riskInput({ recommendation: sell, portfolio: overweight })), 100);
    expectRefusedOnlyFor(
      assess(riskInput({ recommendation: sell, portfolio: { ...overweight, killSwitchActive: true } })),
      "KILL_SWITCH_ACTIVE",
    );
    expectRefusedOnlyFor(
      assess(riskInput({ recommendation: sell, portfolio: { ...overweight, tradesToday: 10 } })),
      "DAILY_TRADE_LIMIT",
    );
  });

  it("mirrors stop loss and take profit above and below the entry", () => {
    const held = { cashUsd: 9_000, positions: { "BTC-USD": { quantity: 0.02, markPrice: 50_000 } } };
    const decision = assess(riskInput({ recommendation: sell, portfolio: held }));
    // 3% daily volatility -> 6% stop distance
    expect(decision.stopLoss).toBeCloseTo(50_000 * 1.06, 6);
    expect(decision.takeProfit).toBeCloseTo(50_000 * (1 - 0.12), 6);
  });
});

describe("the decision", () => {
  it("lists every broken limit, hard stops and sizing alike, with numbers", () => {
    const decision = assess(
      riskInput({
        portfolio: {
          killSwitchActive: true,
          tradesToday: 12,
          equityUsd: 8_000,
          dayStartEquityUsd: 9_000,
          peakEquityUsd: 10_000,
          cashUsd: 7_600.5,
          positions: { "BTC-USD": { quantity: 0.00799, markPrice: 50_000 } },
        },
      }),
    );
    expect(decision.decision).toBe("REFUSE");
    expect(decision.refusals.map((r) => r.reason)).toEqual([
      "KILL_SWITCH_ACTIVE",
      "DAILY_TRADE_LIMIT",
      "DAILY_LOSS_LIMIT",
      "MAX_DRAWDOWN",
      "ASSET_CONCENTRATION",
    ]);
    for (const refusal of decision.refusals.slice(1)) expect(refusal.detail).toMatch(/\d/);
  });

  it("sets BUY stop and take profit from the clamped volatility stop", () => {
    const normal = assess(riskInput());
    expect(normal.stopDistance).toBeCloseTo(0.06, 12);
    expect(normal.stopLoss).toBeCloseTo(47_000, 6);
    expect(normal.takeProfit).toBeCloseTo(56_000, 6);
    const flat = assess(riskInput({ recentCloses: Array(15).fill(100) }));
    expect(flat.volatility14d).toBe(0);
    expect(flat.stopDistance).toBe(0.01);
    const wild = assess(riskInput({ recentCloses: dailyClosesWithVolatility(0.5) }));
    expect(wild.stopDistance).toBe(0.2);
    expect(wild.stopLoss).toBeCloseTo(40_000, 6);
  });

  it("reports heat, Kelly stake, risk score and position size", () => {
    const decision = assess(
      riskInput({
        recommendation: { confidence: 0.4, amountUsd: 1_000 },
        portfolio: { cashUsd: 6_000, positions: { "ETH-USD": { quantity: 2, markPrice: 2_000 } } },
        recentCloses: dailyClosesWithVolatility(0.05),
      }),
    );
    expect(decision.portfolioHeat).toBeCloseTo(0.4, 12);
    expect(decision.kellyFraction).toBeCloseTo(0.025, 12);
    expect(decision.fullKelly).toBeCloseTo(0.1, 12);
    expectApproved(decision, 250);
    expect(decision.bindingConstraint).toBe("KELLY");
    expect(decision.positionSizePercent).toBeCloseTo(2.5, 9);
    // 35 × 0.5 + 25 × 0.5 + 25 × 0 + 15 × 0.6
    expect(decision.riskScore).toBeCloseTo(39, 9);
    expect(decision.createdAt).toBe(NOW.toISOString());
  });

  it("throws an actionable RiskInputError on a corrupt snapshot instead of deciding", () => {
    expect(() => assessRisk(riskInput({ portfolio: { equityUsd: Number.NaN } }), NOW)).toThrow(/equityUsd/);
    expect(() => assessRisk(riskInput({ recommendation: { confidence: 1.2 } }), NOW)).toThrow(/probability/);
    expect(() => assessRisk(riskInput({ limits: { maxAssetFraction: 0 } }), NOW)).toThrow(/maxAssetFraction/);
    expect(() => assessRisk(riskInput({ closeIntervalSeconds: 0 }), NOW)).toThrow(/closeIntervalSeconds/);
  });
});
