import { describe, expect, it } from "vitest";
import { computeClassificationMetrics } from "#model/metrics.js";

const thresholds = { buy: 0.5, sell: 0.6 };

describe("computeClassificationMetrics", () => {
  // four rows, probabilities [down, hold, up], labels 0 DOWN, 1 HOLD, 2 UP
  const probs = Float32Array.from([0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.25, 0.4, 0.35]);
  const labels = Int8Array.from([0, 2, 2, 1]);
  const m = computeClassificationMetrics(probs, labels, 4, thresholds);

  it("computes accuracy and log loss as defined", () => {
    // argmax: DOWN, HOLD, UP, HOLD -> correct on rows 0, 2, 3
    expect(m.accuracy).toBe(3 / 4);
    const expected =
      -(
        Math.log(Math.fround(0.7)) +
        Math.log(Math.fround(0.3)) +
        Math.log(Math.fround(0.6)) +
        Math.log(Math.fround(0.4))
      ) / 4;
    expect(m.logLoss).toBeCloseTo(expected, 12);
  });

  it("computes per-class precision, recall and the confusion matrix", () => {
    expect(m.confusion).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 1, 1],
    ]);
    expect(m.perClass.HOLD).toEqual({ support: 1, predicted: 2, precision: 0.5, recall: 1 });
    expect(m.perClass.UP).toEqual({ support: 2, predicted: 1, precision: 1, recall: 0.5 });
    expect(m.classBalance).toEqual({ DOWN: 0.25, HOLD: 0.25, UP: 0.5 });
  });

  it("bins predicted probabilities against observed frequencies", () => {
    const up = m.calibration.UP;
    expect(up).toHaveLength(10);
    // P(up) = 0.1, 0.3, 0.6, 0.35 -> bins 1, 3, 6, 3; labelled UP: rows 1 (0.3) and 2 (0.6)
    expect(up[3].count).toBe(2);
    expect(up[3].observed).toBe(0.5);
    expect(up[3].meanPredicted).toBeCloseTo((0.3 + 0.35) / 2, 6);
    expect(up[6]).toMatchObject({ count: 1, observed: 1 });
    expect(up[0]).toMatchObject({ count: 0, observed: null, meanPredicted: null });
  });

  it("scores the trading signals decideSignal would emit", () => {
    // row 0: SELL (0.7 > 0.6), label DOWN -> hit; row 2: BUY (0.6 > 0.5), label UP -> hit
    expect(m.signals.SELL).toEqual({ count: 1, rate: 0.25, hitRate: 1, wrongWayRate: 0 });
    expect(m.signals.BUY).toEqual({ count: 1, rate: 0.25, hitRate: 1, wrongWayRate: 0 });
    expect(m.signals.HOLD).toMatchObject({ count: 2, hitRate: 0.5 });
  });

  it("refuses empty input and unknown labels", () => {
    expect(() => computeClassificationMetrics(new Float32Array(0), new Int8Array(0), 0, thresholds)).toThrow(
      /no labelled rows/,
    );
    expect(() =>
      computeClassificationMetrics(Float32Array.from([0.2, 0.3, 0.5]), Int8Array.from([-1]), 1, thresholds),
    ).toThrow(/label -1/);
  });
});
