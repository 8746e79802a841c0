import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadSignalModel } from "#model/runtime.js";

interface ParityFixture {
  modelSha256: string;
  featureCount: number;
  kinds: Record<string, number>;
  rows: Array<Array<number | null>>;
  probabilities: number[][];
}

const fixture = JSON.parse(await readFile("test/fixtures/model/parity.json", "utf8")) as ParityFixture;

describe("ONNX model vs XGBoost (parity fixture written at training time)", () => {
  it("covers real rows, rows with missing features and rows sitting exactly on split thresholds", () => {
    expect(fixture.rows.length).toBeGreaterThanOrEqual(1000);
    expect(fixture.rows.length).toBe(fixture.probabilities.length);
    expect(fixture.kinds.nan).toBeGreaterThan(0);
    expect(fixture.kinds["all-nan"]).toBeGreaterThan(0);
    expect(fixture.kinds["on-threshold"]).toBeGreaterThan(0);
    expect(fixture.rows.some((r) => r.includes(null))).toBe(true);
  });

  it("reproduces XGBoost's probabilities to 1e-5 in one batch", async () => {
    const model = await loadSignalModel("models/signal-model.onnx", "models/signal-model.card.json");
    expect(model.sha256).toBe(fixture.modelSha256);
    const n = fixture.rows.length;
    const input = new Float32Array(n * fixture.featureCount);
    fixture.rows.forEach((row, r) => {
      row.forEach((v, c) => {
        input[r * fixture.featureCount + c] = v === null ? Number.NaN : v;
      });
    });
    const probs = await model.predict(input, n);
    let worst = 0;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < 3; c++)
        worst = Math.max(worst, Math.abs(probs[r * 3 + c] - fixture.probabilities[r][c]));
    }
    expect(worst).toBeLessThanOrEqual(1e-5);

    // a batch of one gives the same answer as the same row inside the big batch
    for (const r of [0, n - 1, Math.floor(n / 2)]) {
      const single = await model.predict(
        input.slice(r * fixture.featureCount, (r + 1) * fixture.featureCount),
        1,
      );
      expect(Array.from(single)).toEqual(Array.from(probs.subarray(r * 3, r * 3 + 3)));
    }
    await model.release();
  });
});
