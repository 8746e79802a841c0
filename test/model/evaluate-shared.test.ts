/**
 * The model card's validation metrics, reproduced on the shared candles (`npm run test:data`: it
 * needs ../shared/data, which `npm test` on a clone alone does not have).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSignalModel, type SignalModel } from "#model/runtime.js";
import { SHARED_CANDLES } from "#test/support/paths.js";
import { evaluateOnCandles } from "#training/evaluate-candles.js";

let model: SignalModel;
beforeAll(async () => {
  model = await loadSignalModel("models/signal-model.onnx", "models/signal-model.card.json");
});
afterAll(async () => {
  await model.release();
});

describe("evaluate on the shared candles", () => {
  it("reproduces the model card's validation metrics on the shared data from 2024-01-01", async () => {
    const card = model.card!;
    const { metrics } = await evaluateOnCandles({
      model,
      candleDir: SHARED_CANDLES,
      granularity: card.data.granularity,
      label: card.label,
      window: { from: Date.parse("2024-01-01T00:00:00Z") / 1000 },
      thresholds: card.decisionThresholds,
    });
    expect(metrics.rows).toBe(card.validation.rows);
    expect(metrics.confusion).toEqual(card.validation.confusion);
    expect(metrics.accuracy).toBe(card.validation.accuracy);
    expect(metrics.logLoss).toBeCloseTo(card.validation.logLoss, 9);
  }, 60_000);
});
