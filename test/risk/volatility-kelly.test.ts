import { describe, expect, it } from "vitest";
import {
  closesNeededForVolatility,
  DEFAULT_RISK_LIMITS,
  kellyCriterion,
  kellySize,
  kellyStakeFraction,
  portfolioHeat,
  RiskInputError,
  riskScore,
  volatility14d,
} from "#risk/index.js";
import { alternatingCloses, DAY, HOUR, portfolio } from "./fixtures.js";

describe("volatility14d", () => {
  it("matches the hand computation on daily closes: 14 returns of ±ln(1.1)", () => {
    const closes = [100, 110, 100, 110, 100, 110, 100, 110, 100, 110, 100, 110, 100, 110, 100];
    const a = Math.log(1.1);
    // mean 0; sample variance = 14·a² / 13
    expect(volatility14d(closes, DAY)).toBeCloseTo(a * Math.sqrt(14 / 13), 12);
  });

  it("scales hourly returns to one day: 336 returns of ±a give a·√(336/335)·√24", () => {
    const a = 0.004;
    const closes = alternatingCloses(a, 337);
    expect(volatility14d(closes, HOUR)).toBeCloseTo(a * Math.sqrt(336 / 335) * Math.sqrt(24), 12);
  });

  it("computes a non-symmetric series by hand: returns ln(2), ln(1/2)... with one flat day", () => {
    // 14 returns: 13 alternating ±ln 2 (7 up, 6 down) then a flat day
    const closes = [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 2];
    const l = Math.LN2;
    const mean = l / 14;
    const variance = (7 * (l - mean) ** 2 + 6 * (-l - mean) ** 2 + (0 - mean) ** 2) / 13;
    expect(volatility14d(closes, DAY)).toBeCloseTo(Math.sqrt(variance), 12);
  });

  it("uses only the last 14 days of closes", () => {
    const recent = alternatingCloses(0.02, 15);
    const withWildHistory = [1, 1000, 3, 5000, ...recent];
    expect(volatility14d(withWildHistory, DAY)).toBe(volatility14d(recent, DAY));
  });

  it("accepts a Float64Array", () => {
    const closes = alternatingCloses(0.01, 337);
    expect(volatility14d(Float64Array.from(closes), HOUR)).toBe(volatility14d(closes, HOUR));
  });

  it("refuses to guess with fewer than 14 days of closes", () => {
    expect(closesNeededForVolatility(DAY)).toBe(15);
    expect(closesNeededForVolatility(HOUR)).toBe(337);
    expect(() => volatility14d(alternatingCloses(0.01, 14), DAY)).toThrow(/need at least 15 closes/);
    expect(() => volatility14d(alternatingCloses(0.01, 336), HOUR)).toThrow(RiskInputError);
  });

  it("refuses a non-positive close inside the window", () => {
    const closes = alternatingCloses(0.01, 15);
    closes[7] = 0;
    expect(() => volatility14d(closes, DAY)).toThrow(/not a positive finite number/);
  });
});

describe("Kelly sizing", () => {
  it("computes the full Kelly stake f* = p - (1-p)/b", () => {
    expect(kellyCriterion(0.6, 2)).toBeCloseTo(0.4, 15);
    expect(kellyCriterion(0.5, 1)).toBe(0);
    expect(kellyCriterion(0.25, 2)).toBeCloseTo(-0.125, 15);
  });

  it("applies the fractional multiplier and clamps to [0, maxAssetFraction]", () => {
    // p=0.4, b=2: f* = 0.1, × 0.25 = 0.025
    expect(kellyStakeFraction(0.4, DEFAULT_RISK_LIMITS)).toBeCloseTo(0.025, 15);
    // p=0.9: f* = 0.85, × 0.25 = 0.2125 -> clamped to 0.05
    expect(kellyStakeFraction(0.9, DEFAULT_RISK_LIMITS)).toBe(0.05);
    // no edge: p=0.3 -> f* < 0 -> 0
    expect(kellyStakeFraction(0.3, DEFAULT_RISK_LIMITS)).toBe(0);
  });

  it("sizes in USD from equity", () => {
    expect(kellySize(0.4, 10_000, DEFAULT_RISK_LIMITS)).toBeCloseTo(250, 9);
    expect(kellySize(0.4, 10_000, { ...DEFAULT_RISK_LIMITS, kellyFraction: 0.5 })).toBeCloseTo(500, 9);
  });
});

describe("portfolio heat and risk score", () => {
  it("is gross exposure over equity", () => {
    const p = portfolio({
      cashUsd: 7_000,
      positions: {
        "BTC-USD": { quantity: 0.04, markPrice: 50_000 },
        "ETH-USD": { quantity: 0.5, markPrice: 2_000 },
      },
    });
    expect(portfolioHeat(p)).toBeCloseTo(0.3, 12);
  });

  it("throws on a negative quantity (spot has no shorts)", () => {
    const p = portfolio({ positions: { "BTC-USD": { quantity: -1, markPrice: 50_000 } } });
    expect(() => portfolioHeat(p)).toThrow(/positions.BTC-USD.quantity/);
  });

  it("weights volatility 35, heat 25, drawdown 25 and doubt 15", () => {
    // vol 5% of 10% ceiling, heat 0.4 of 0.8, drawdown 7.5% of 15%, confidence 0.7
    expect(riskScore(0.05, 0.4, 0.075, 0.7, DEFAULT_RISK_LIMITS)).toBeCloseTo(17.5 + 12.5 + 12.5 + 4.5, 9);
    expect(riskScore(0, 0, 0, 1, DEFAULT_RISK_LIMITS)).toBe(0);
    expect(riskScore(1, 5, 1, 0, DEFAULT_RISK_LIMITS)).toBe(100);
    expect(riskScore(Number.NaN, 0, 0, 1, DEFAULT_RISK_LIMITS)).toBe(35);
  });
});
