import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeFeatureMatrix, FEATURE_COUNT, WARMUP_CANDLES } from "#features/index.js";
import { toModelInput } from "#model/evaluation.js";
import { loadSignalModel, type SignalModel } from "#model/runtime.js";
import { readCandleFolder } from "#training/candle-csv.js";
import { evaluateOnCandles } from "#training/evaluate-candles.js";

const SLICE = "test/fixtures/model/candles";

const run = promisify(execFile);

let model: SignalModel;
let dir: string;
beforeAll(async () => {
  model = await loadSignalModel("models/signal-model.onnx", "models/signal-model.card.json");
  dir = await mkdtemp(join(tmpdir(), "evaluate-"));
});
afterAll(async () => {
  await model.release();
  await rm(dir, { recursive: true, force: true });
});

describe("evaluate on a candle folder", () => {
  it("matches accuracy and log loss computed by hand from the closes and per-row predictions", async () => {
    const card = model.card!;
    const horizon = card.label.horizonCandles;
    let rows = 0;
    let correct = 0;
    let logLossSum = 0;
    for (const { series } of await readCandleFolder(SLICE, "1h")) {
      const features = computeFeatureMatrix(series);
      for (let i = WARMUP_CANDLES; i + horizon < series.length; i++) {
        expect(series.start[i + horizon] - series.start[i]).toBe(horizon * 3600);
        const r = series.close[i + horizon] / series.close[i] - 1;
        const label = r > card.label.upReturn ? 2 : r < card.label.downReturn ? 0 : 1;
        const p = await model.predict(
          toModelInput(features.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT)),
          1,
        );
        const argmax = p.indexOf(Math.max(p[0], p[1], p[2]));
        if (argmax === label) correct++;
        logLossSum -= Math.log(p[label]);
        rows++;
      }
    }
    expect(rows).toBe(2 * (260 - WARMUP_CANDLES - horizon));

    const { metrics, symbols } = await evaluateOnCandles({
      model,
      candleDir: SLICE,
      granularity: "1h",
      label: card.label,
      window: {},
      thresholds: card.decisionThresholds,
    });
    expect(symbols).toEqual(["BTC-USDT", "ETH-USDT"]);
    expect(metrics.rows).toBe(rows);
    expect(metrics.accuracy).toBe(correct / rows);
    expect(metrics.logLoss).toBeCloseTo(logLossSum / rows, 9);
  });

  it("honours --from/--to on candle open time and writes the same metrics as JSON from the CLI", async () => {
    const out = join(dir, "slice.json");
    const from = "2024-03-10T00:00:00Z";
    const to = "2024-03-11T06:00:00Z";
    await run(
      process.execPath,
      [
        "node_modules/tsx/dist/cli.mjs",
        "bin/evaluate.ts",
        "--model",
        "models/signal-model.onnx",
        "--candles",
        SLICE,
        "--from",
        from,
        "--to",
        to,
        "--json",
        out,
      ],
      { timeout: 60_000 },
    );
    const written = JSON.parse(await readFile(out, "utf8"));
    // the slice starts 2024-03-01 00:00: warm-up ends 03-09 07:00 and the last labelled row is 03-11 07:00
    // (12 h before the last candle), so [from, to) holds 30 scored hours per symbol
    expect(written.metrics.rows).toBe(60);
    expect(written.firstRow).toBe("2024-03-10T00:00:00.000Z");
    expect(written.lastRow).toBe("2024-03-11T05:00:00.000Z");
    const direct = await evaluateOnCandles({
      model,
      candleDir: SLICE,
      granularity: "1h",
      label: model.card!.label,
      window: { from: Date.parse(from) / 1000, to: Date.parse(to) / 1000 },
      thresholds: model.card!.decisionThresholds,
    });
    expect(written.metrics).toEqual(direct.metrics);
  });
});
