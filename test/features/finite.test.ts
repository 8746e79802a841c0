import { describe, expect, it } from "vitest";
import { computeFeatureMatrix, FEATURE_COUNT, FEATURE_NAMES, WARMUP_CANDLES } from "#features/index.js";
import { hourlyFiles, readSeries } from "./candles-csv.js";

const ROWS = 5000;

describe("no NaN or Infinity after warm-up on real data", () => {
  const files = hourlyFiles();

  it("covers all 19 hourly files", () => {
    expect(files).toHaveLength(19);
  });

  it("every feature is finite from WARMUP_CANDLES on, in the last 5000 candles of every 1h file", () => {
    for (const file of files) {
      const series = readSeries(file, ROWS);
      const m = computeFeatureMatrix(series);
      for (let i = WARMUP_CANDLES; i < series.length; i++) {
        for (let k = 0; k < FEATURE_COUNT; k++) {
          const v = m[i * FEATURE_COUNT + k];
          if (!Number.isFinite(v)) expect.fail(`${file} row ${i} ${FEATURE_NAMES[k]} = ${v}`);
        }
      }
    }
  });

  it("every feature is finite on the full history of every file, zero-volume candles included", () => {
    let zeroVolumeCandles = 0;
    for (const file of files) {
      const series = readSeries(file);
      for (let i = 0; i < series.length; i++) if (series.volume[i] === 0) zeroVolumeCandles++;
      const m = computeFeatureMatrix(series);
      let bad = 0;
      for (let j = WARMUP_CANDLES * FEATURE_COUNT; j < m.length; j++) if (!Number.isFinite(m[j])) bad++;
      expect(bad, file).toBe(0);
    }
    expect(
      zeroVolumeCandles,
      "the recent years have none; the full histories must include some",
    ).toBeGreaterThan(0);
  });
});
