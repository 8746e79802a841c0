import { describe, expect, it } from "vitest";
import { DEFAULT_DECISION_THRESHOLDS, decideSignal } from "#model/decision.js";

const t = DEFAULT_DECISION_THRESHOLDS;

describe("decideSignal", () => {
  it("uses the seed thresholds BUY > 0.5, SELL > 0.6", () => {
    expect(t).toEqual({ buy: 0.5, sell: 0.6 });
  });

  it("buys only strictly above the buy threshold", () => {
    expect(decideSignal({ down: 0.2, hold: 0.3, up: 0.5 }, t)).toEqual({
      signalType: "HOLD",
      confidence: 0.3,
      threshold: 0,
    });
    expect(decideSignal({ down: 0.2, hold: 0.29, up: 0.51 }, t)).toEqual({
      signalType: "BUY",
      confidence: 0.51,
      threshold: 0.5,
    });
  });

  it("sells only strictly above the sell threshold", () => {
    expect(decideSignal({ down: 0.6, hold: 0.3, up: 0.1 }, t).signalType).toBe("HOLD");
    expect(decideSignal({ down: 0.61, hold: 0.29, up: 0.1 }, t)).toEqual({
      signalType: "SELL",
      confidence: 0.61,
      threshold: 0.6,
    });
  });

  it("does not sell on a P(down) that would be enough to buy", () => {
    expect(decideSignal({ down: 0.55, hold: 0.4, up: 0.05 }, t).signalType).toBe("HOLD");
  });

  it("reports P(hold) as the confidence of a HOLD even when another class is larger", () => {
    expect(decideSignal({ down: 0.45, hold: 0.1, up: 0.45 }, t)).toEqual({
      signalType: "HOLD",
      confidence: 0.1,
      threshold: 0,
    });
  });

  it("lets the larger probability win when both thresholds are beaten, and holds on a tie", () => {
    const low = { buy: 0.3, sell: 0.3 };
    expect(decideSignal({ down: 0.31, hold: 0.04, up: 0.65 }, low).signalType).toBe("BUY");
    expect(decideSignal({ down: 0.65, hold: 0.04, up: 0.31 }, low).signalType).toBe("SELL");
    expect(decideSignal({ down: 0.45, hold: 0.1, up: 0.45 }, low)).toEqual({
      signalType: "HOLD",
      confidence: 0.1,
      threshold: 0,
    });
  });

  it("refuses values that are not probabilities", () => {
    expect(() => decideSignal({ down: Number.NaN, hold: 0.5, up: 0.5 }, t)).toThrow(/P\(down\)/);
    expect(() => decideSignal({ down: 0, hold: -0.1, up: 1.1 }, t)).toThrow(RangeError);
  });
});
