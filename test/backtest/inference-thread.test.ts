import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listMarketFiles, type PredictionTiming, predictMarket } from "#backtest/predictions.js";
import { FEATURE_COUNT } from "#features/index.js";
import { startInferenceThread } from "#model/inference-thread.js";
import { shippedModel } from "#test/e2e/support.js";
import { REPO_ROOT, SHARED_CANDLES } from "#test/support/paths.js";

const MODEL_PATH = resolve(REPO_ROOT, "models/signal-model.onnx");
const scratch = mkdtempSync(join(tmpdir(), "inference-thread-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function timing(): PredictionTiming {
  return { loadMs: 0, featuresMs: 0, inferenceMs: 0, cacheHits: 0, rowsInferred: 0 };
}

describe("inference on a worker thread", () => {
  it("gives the same probabilities, bit for bit, as scoring on the calling thread", async () => {
    const model = await shippedModel();
    const files = [
      ...listMarketFiles(resolve(REPO_ROOT, "data/replay"), "ONE_HOUR"),
      ...listMarketFiles(SHARED_CANDLES, "ONE_HOUR", ["ETH-USDT"]),
    ];
    const here = await predictMarket(model, files);
    const onWorker = timing();
    const done: number[] = [];
    const there = await predictMarket(model, files, {
      inferenceWorker: { modelPath: MODEL_PATH },
      timing: onWorker,
      onProgress: (d) => done.push(d),
    });
    expect(there.map((s) => s.productId)).toEqual(here.map((s) => s.productId));
    let compared = 0;
    for (const [k, s] of here.entries()) {
      const other = there[k].probabilities;
      expect(other.length).toBe(s.probabilities.length);
      for (let i = 0; i < other.length; i++) {
        if (!Object.is(other[i], s.probabilities[i])) {
          throw new Error(`${s.productId} value ${i}: ${other[i]} on the worker, ${s.probabilities[i]} here`);
        }
        if (!Number.isNaN(other[i])) compared++;
      }
    }
    expect(compared).toBe(onWorker.rowsInferred * 3);
    expect(onWorker.rowsInferred).toBeGreaterThan(40_000);
    expect(onWorker.inferenceMs).toBeGreaterThan(0);
    expect(done.at(-1)).toBe(files.length * 2);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  });

  it("refuses a model file that is not the one the caller loaded", async () => {
    const model = await shippedModel();
    const other = join(scratch, "other.onnx");
    const bytes = readFileSync(MODEL_PATH);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(other, bytes);
    const thread = startInferenceThread(model, other);
    try {
      await expect(thread.predict(new Float32Array(FEATURE_COUNT), 1)).rejects.toThrow(
        /could not open the model: .*other\.onnx changed on disk after it was loaded/,
      );
    } finally {
      await thread.close();
    }
  });

  it("rejects rows that do not match the row count, then keeps serving", async () => {
    const model = await shippedModel();
    const copy = join(scratch, "copy.onnx");
    copyFileSync(MODEL_PATH, copy);
    const thread = startInferenceThread(model, copy);
    try {
      await expect(thread.predict(new Float32Array(FEATURE_COUNT + 1), 1)).rejects.toThrow(
        /got 52 values for 1 rows of 51 features/,
      );
      const view = new Float32Array(FEATURE_COUNT * 3).subarray(FEATURE_COUNT);
      const { probabilities, rows } = await thread.predict(view, 2);
      expect(probabilities).toHaveLength(6);
      expect(probabilities[0] + probabilities[1] + probabilities[2]).toBeCloseTo(1, 5);
      // transferred, not copied, and handed back whole
      expect(view.length).toBe(0);
      expect(rows.byteLength).toBe(FEATURE_COUNT * 3 * 4);
    } finally {
      await thread.close();
    }
  });

  it("fails pending predictions when closed", async () => {
    const model = await shippedModel();
    const thread = startInferenceThread(model, MODEL_PATH);
    const pending = thread.predict(new Float32Array(FEATURE_COUNT * 1000), 1000);
    const failed = expect(pending).rejects.toThrow(/inference thread was closed/);
    await thread.close();
    await failed;
  });
});
